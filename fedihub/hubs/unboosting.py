"""When an author is blocked, the boosts our hubs already sent of its posts are undone (§3.8 R8)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.hubs.boosting import undo_each
from fedihub.storage.models import Actor, Boost, StoredObject


async def unboost_author(ctx: FederationContext, session: AsyncSession, author: Actor, *, hub_id: int | None) -> int:
    """Undo the boosts of ``author``'s posts by one hub (its own block) or by every hub here (the
    admins' block), so followers up the tree stop showing them; the caller commits. Returns how many."""
    query = select(Boost).join(StoredObject, StoredObject.uri == Boost.object_uri).where(
        StoredObject.attributed_to_id == author.id, Boost.undone_at.is_(None))
    if hub_id is not None:
        query = query.where(Boost.hub_id == hub_id)
    return await undo_each(ctx, session, (await session.scalars(query)).all())
