"""When a coalition is blocked, its live pledges to our calls are refused as organizers refuse them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.pledges import origin
from fedihub.pledges.store import ACCEPTED
from fedihub.storage.models import Pledge, StoredObject


async def refuse_blocked(ctx: FederationContext, session: AsyncSession, coalition_uri: str, *,
                         author_id: int | None) -> int:
    """Refuse ``coalition_uri``'s pending and accepted pledges to the calls of ``author_id`` (a
    coalition's own block) or to every call of this server (the admins' block): a Reject to it and a
    Remove to every copy of the roll-up, as origin.refuse_pledge does. Returns how many; the caller commits."""
    calls = select(StoredObject).where(StoredObject.is_local.is_(True), StoredObject.type == "Event")
    if author_id is not None:
        calls = calls.where(StoredObject.attributed_to_id == author_id)
    refused = 0
    for call in (await session.scalars(calls.where(StoredObject.uri.in_(
        select(Pledge.call_uri).where(Pledge.coalition_uri == coalition_uri)
    )))).all():
        row = await session.scalar(select(Pledge).where(
            Pledge.call_uri == call.uri, Pledge.coalition_uri == coalition_uri, Pledge.state.in_((ACCEPTED, "pending"))
        ))
        if row is not None:
            await origin.refuse_pledge(ctx, session, call, row)
            refused += 1
    return refused
