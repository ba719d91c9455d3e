"""Named queries for what the public and organizer pages list: coalitions, their posts and updates."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Actor, StoredObject


def _coalitions() -> Select[Actor]:
    return select(Actor).where(Actor.is_local.is_(True), Actor.type == "Group", Actor.deleted_at.is_(None))


async def find_coalition(session: AsyncSession, username: str) -> Actor | None:
    """One of this server's coalitions (or hubs) by handle, unless deleted."""
    return await session.scalar(_coalitions().where(Actor.local_username == username))


async def local_coalitions(session: AsyncSession) -> list[Actor]:
    """Every coalition and hub hosted here, by name as people read it (case-insensitive)."""
    return list((await session.scalars(_coalitions().order_by(func.lower(Actor.name)))).all())


async def count_coalitions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(_coalitions().subquery())) or 0)


async def count_local_posts(session: AsyncSession) -> int:
    """Posts and calls published here and not deleted."""
    query = select(func.count()).select_from(StoredObject).where(
        StoredObject.is_local.is_(True), StoredObject.deleted_at.is_(None)
    )
    return int(await session.scalar(query) or 0)


async def recent_posts(session: AsyncSession, *, limit: int, actor_id: int | None = None) -> list[StoredObject]:
    """Public posts other than calls, newest first: one coalition's, or (without ``actor_id``) all of ours."""
    query = select(StoredObject).where(
        StoredObject.deleted_at.is_(None), StoredObject.visibility == "public", StoredObject.type != "Event",
    )
    if actor_id is None:
        query = query.where(StoredObject.is_local.is_(True))
    else:
        query = query.where(StoredObject.attributed_to_id == actor_id)
    return list((await session.scalars(query.order_by(StoredObject.id.desc()).limit(limit))).all())


async def own_notes(session: AsyncSession, actor_id: int, *, limit: int) -> list[StoredObject]:
    """A coalition's own announcements (not its replies under calls), newest first, for its organizers."""
    query = select(StoredObject).where(
        StoredObject.attributed_to_id == actor_id, StoredObject.type == "Note",
        StoredObject.in_reply_to.is_(None), StoredObject.deleted_at.is_(None),
    ).order_by(StoredObject.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def organizer_updates(session: AsyncSession, call: StoredObject, *, limit: int) -> list[StoredObject]:
    """The organizers' own replies under a call (what changed, why it was cancelled), newest first.

    They are the Notes calls.update_call and calls.cancel_call publish, or a remote organizer's.
    """
    query = select(StoredObject).where(
        StoredObject.in_reply_to == call.uri, StoredObject.attributed_to_id == call.attributed_to_id,
        StoredObject.deleted_at.is_(None), StoredObject.visibility.in_(("public", "unlisted")),
    ).order_by(StoredObject.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def latest_call_zone(session: AsyncSession, actor_id: int) -> str | None:
    """The time zone of the coalition's latest call (a coalition mostly acts in one place), else of the
    latest call on this server (an instance usually serves one region)."""
    latest = (
        select(StoredObject.timezone)
        .where(StoredObject.is_local.is_(True), StoredObject.type == "Event", StoredObject.timezone.is_not(None))
        .order_by(StoredObject.id.desc())
        .limit(1)
    )
    zone = await session.scalar(latest.where(StoredObject.attributed_to_id == actor_id))
    return zone or await session.scalar(latest)
