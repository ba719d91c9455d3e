"""Who hears of a change to a call: the inboxes of everyone who shows it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Actor, Follow, Pledge, Reaction


async def call_audience_inboxes(session: AsyncSession, call_uri: str, author_id: int) -> set[str]:
    """Everyone who shows a call: its author's followers, the coalitions pledged to it, the hubs carrying it.

    Changes to the call (edits, cancellation, its pledges) go to all of them: a pledging coalition or
    a national hub need not follow the coalition that called the action.
    """
    followers = select(Actor.shared_inbox, Actor.inbox).join(Follow, Follow.follower_id == Actor.id).where(
        Follow.target_id == author_id, Follow.state == "accepted"
    )
    pledgers = select(Actor.shared_inbox, Actor.inbox).join(Pledge, Pledge.coalition_uri == Actor.uri).where(
        # A coalition that withdrew still holds a copy of the call; it hears of changes too.
        Pledge.call_uri == call_uri, Pledge.state.in_(("accepted", "withdrawn"))
    )
    carriers = select(Actor.shared_inbox, Actor.inbox).join(Reaction, Reaction.actor_id == Actor.id).where(
        Reaction.object_uri == call_uri, Reaction.type == "Announce"
    )
    inboxes: set[str] = set()
    for query in (followers, pledgers, carriers):
        rows = await session.execute(query.where(Actor.deleted_at.is_(None)))
        inboxes.update(address for shared, inbox in rows if (address := shared or inbox))
    return inboxes
