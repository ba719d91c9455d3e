"""Reading pledges as this server knows them: a call's roll-up (its own list for local calls, the
origin's copy for remote ones), a coalition's pledges, and our calls that take pledges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.moderation.visibility import hidden_among
from fedihub.pledges.rollup import Rollup, build_rollup
from fedihub.pledges.store import accepted_pledges, item_of
from fedihub.protocol.pledges import read_carriers
from fedihub.storage.models import Pledge, StoredObject


async def rollup_of(session: AsyncSession, call: StoredObject) -> Rollup:
    items = [item_of(row) for row in await accepted_pledges(session, call.uri)]
    # Our calls: the hubs our last vouch check verified; remote calls: the origin's published list.
    carriers = read_carriers({"carriedBy": call.pledge_carriers or []})
    if not call.is_local:
        # A copy shows the origin's list less what blocks hide here, stored before the block or not
        # (pledges to our own calls are refused when their coalition is blocked).
        hidden = await hidden_among(session, [i.coalition.uri for i in items] + [c.uri for c in carriers])
        items = [item for item in items if item.coalition.uri not in hidden]
        carriers = [carrier for carrier in carriers if carrier.uri not in hidden]
    return build_rollup(items, carriers)


async def held_pledges(session: AsyncSession, call_uri: str) -> Sequence[Pledge]:
    """At the origin: pledges held unanswered (unvouched, over the per-server cap), oldest first."""
    return (
        await session.scalars(
            select(Pledge).where(Pledge.call_uri == call_uri, Pledge.state == "pending", Pledge.source == "local")
            .order_by(Pledge.id)
        )
    ).all()


async def current_rollup(session: AsyncSession, call: StoredObject) -> Rollup:
    """The roll-up from the call as stored now (a refresh of a remote call's copy may have changed it)."""
    fresh = await session.get(StoredObject, call.id)
    return await rollup_of(session, fresh or call)


async def pledges_of_coalition(session: AsyncSession, coalition_uri: str) -> Sequence[Pledge]:
    """A coalition's own pledges (every state), newest first."""
    return (
        await session.scalars(
            select(Pledge).where(Pledge.coalition_uri == coalition_uri).order_by(Pledge.created_at.desc())
        )
    ).all()


async def find_local_call(session: AsyncSession, uri: str | None) -> StoredObject | None:
    """One of this server's calls (an Event, deleted or not) at ``uri``, or None."""
    if not uri:
        return None
    row = await session.scalar(select(StoredObject).where(StoredObject.uri == uri, StoredObject.is_local.is_(True)))
    return row if row is not None and row.type == "Event" else None
