"""What an actor's collections hold: follower and following counts and pages, its outbox, its activities.

Named queries for the pages and the ActivityPub endpoints, which never build SQL of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Activity, Actor, Follow

# The activities an outbox lists: what the actor published or boosted, publicly, and not taken back.
OUTBOX_TYPES = ("Create", "Announce")


def _follows(actor_id: int, *, followers: bool, state: str) -> ColumnElement[bool]:
    mine = Follow.target_id if followers else Follow.follower_id
    return (mine == actor_id) & (Follow.state == state)


async def count_followers(session: AsyncSession, actor_id: int, *, state: str = "accepted") -> int:
    """How many actors follow this one (``state="pending"``: how many ask to)."""
    condition = _follows(actor_id, followers=True, state=state)
    return int(await session.scalar(select(func.count()).select_from(Follow).where(condition)) or 0)


async def count_following(session: AsyncSession, actor_id: int, *, state: str = "accepted") -> int:
    """How many actors this one follows."""
    condition = _follows(actor_id, followers=False, state=state)
    return int(await session.scalar(select(func.count()).select_from(Follow).where(condition)) or 0)


async def follow_collection_page(
    session: AsyncSession, actor_id: int, *, followers: bool, offset: int, limit: int
) -> list[str]:
    """The ids of accepted followers (or followed actors), newest follow first."""
    other = Follow.follower_id if followers else Follow.target_id
    condition = _follows(actor_id, followers=followers, state="accepted")
    query = (
        select(Actor.uri).join(Follow, other == Actor.id).where(condition)
        .order_by(Follow.id.desc()).offset(offset).limit(limit)
    )
    return list((await session.scalars(query)).all())


def _outbox(actor_id: int) -> ColumnElement[bool]:
    return (
        (Activity.actor_id == actor_id)
        & Activity.type.in_(OUTBOX_TYPES)
        & Activity.is_public.is_(True)
        & Activity.withdrawn_at.is_(None)
    )


async def count_outbox(session: AsyncSession, actor_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Activity).where(_outbox(actor_id))) or 0)


async def outbox_page(session: AsyncSession, actor_id: int, *, offset: int, limit: int) -> list[dict[str, Any]]:
    """The actor's public Create and Announce documents, newest first, as a collection page embeds
    them: without an ``@context`` of their own."""
    query = select(Activity).where(_outbox(actor_id)).order_by(Activity.id.desc()).offset(offset).limit(limit)
    rows: Sequence[Activity] = (await session.scalars(query)).all()
    return [{key: value for key, value in row.data.items() if key != "@context"} for row in rows]


async def find_activity(session: AsyncSession, uri: str) -> Activity | None:
    return await session.scalar(select(Activity).where(Activity.uri == uri))
