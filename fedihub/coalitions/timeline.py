"""A coalition's timeline for its organizers: what the actors it follows posted or boosted."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.moderation.visibility import not_blocked_by, shown_objects
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject

TIMELINE = 40


@dataclass(frozen=True)
class TimelineEntry:
    """A post or call, with the names of the followed actors (hubs, mostly) that boosted it."""

    row: StoredObject
    boosted_by: list[str] = field(default_factory=list)


def followed_ids(actor_id: int) -> Select[int]:
    """Ids of the actors ``actor_id`` follows, accepted follows only."""
    return select(Follow.target_id).where(Follow.follower_id == actor_id, Follow.state == "accepted")


async def reaching(session: AsyncSession, actor_id: int) -> list[ColumnElement[bool]]:
    """Conditions over StoredObject for what reaches a coalition: public and unlisted posts and calls
    by the actors it follows (accepted follows only) or boosted by them, less what blocks hide."""
    followed = followed_ids(actor_id)
    # What followed actors boosted too: that is how calls carried by a hub reach its followers.
    boosted = select(Reaction.object_uri).where(Reaction.type == "Announce", Reaction.actor_id.in_(followed))
    return [
        or_(StoredObject.attributed_to_id.in_(followed), StoredObject.uri.in_(boosted)),
        StoredObject.deleted_at.is_(None), StoredObject.visibility.in_(("public", "unlisted")),
        await shown_objects(session), not_blocked_by(actor_id),
    ]


async def organizer_timeline(session: AsyncSession, actor_id: int, *, limit: int = TIMELINE) -> list[TimelineEntry]:
    """What reaches the coalition (see ``reaching``), newest first, each with the followed actors that boosted it."""
    rows = (
        await session.scalars(
            select(StoredObject).where(*await reaching(session, actor_id))
            .order_by(func.coalesce(StoredObject.published, StoredObject.created_at).desc(), StoredObject.id.desc())
            .limit(limit)
        )
    ).all()
    boosters = await followed_boosters(session, followed_ids(actor_id), [row.uri for row in rows])
    return [TimelineEntry(row, boosters.get(row.uri, [])) for row in rows]


async def followed_boosters(session: AsyncSession, followed: Select[int], uris: list[str]) -> dict[str, list[str]]:
    """Names of the followed actors that boosted each of ``uris``, in the order they boosted."""
    if not uris:
        return {}
    rows = await session.execute(
        select(Reaction.object_uri, Actor.name, Actor.username)
        .join(Actor, Actor.id == Reaction.actor_id)
        .where(Reaction.type == "Announce", Reaction.object_uri.in_(uris), Reaction.actor_id.in_(followed))
        .order_by(Reaction.id)
    )
    found: dict[str, list[str]] = {}
    for uri, name, username in rows:
        found.setdefault(uri, []).append(name or username or "")
    return found
