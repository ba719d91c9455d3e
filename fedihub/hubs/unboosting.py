"""When an author is blocked, the boosts our hubs already sent of its posts are undone (§3.8 R8)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import follower_inboxes, publish
from fedihub.hubs.boosting import _author_inbox
from fedihub.protocol import builders
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Activity, Actor, Boost, StoredObject


async def unboost_author(ctx: FederationContext, session: AsyncSession, author: Actor, *, hub_id: int | None) -> int:
    """Undo the boosts of ``author``'s posts by one hub (its own block) or by every hub here (the
    admins' block), so followers up the tree stop showing them; the caller commits. Returns how many."""
    query = select(Boost).join(StoredObject, StoredObject.uri == Boost.object_uri).where(
        StoredObject.attributed_to_id == author.id, Boost.undone_at.is_(None))
    if hub_id is not None:
        query = query.where(Boost.hub_id == hub_id)
    undone = 0
    for boost in (await session.scalars(query)).all():
        hub = await session.get(Actor, boost.hub_id)
        sent = await session.scalar(select(Activity).where(Activity.uri == boost.activity_uri))
        if hub is None or sent is None:
            continue
        boost.undone_at = ctx.clock()
        undo = builders.build_undo(
            activity_id=ctx.urls.new_activity(), actor=hub.uri, activity=sent.data,
            to=[PUBLIC], cc=list(sent.data.get("cc", [])),
        )
        inboxes = await follower_inboxes(session, hub.id) | {await _author_inbox(session, sent.data)}
        await publish(ctx, session, actor=hub, activity=undo, inboxes=inboxes)
        undone += 1
    return undone
