"""A hub's review list: members' posts it held instead of boosting, and the query moderation pages read.

Held posts wait (over the member's boost rate, or the member is paused) until a hub admin boosts or
discards them (hubs/service.py). ``list_held_posts`` is the documented query for instance-wide
moderation pages: every waiting item, or one hub's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedihub.storage.models import Actor, HeldPost, StoredObject

log = logging.getLogger(__name__)

RATE = "rate"
PAUSED = "paused"
MENTION = "mention"  # a post mentioning a coalition by someone not on its fediverse members list
REASON_TEXT = {
    RATE: "over the member's boost rate",
    PAUSED: "the member is paused",
    MENTION: "mentions the coalition; its author is not a listed member",
}
# Waiting posts per (hub, member): past this, further posts are not even held (a paused or flooding
# member cannot grow the review list without end). Admins empty it by boosting or discarding.
MAX_WAITING_PER_MEMBER = 100


@dataclass(frozen=True)
class HeldItem:
    """One waiting post as review pages show it; ``object`` is None when we no longer store it."""

    id: int
    hub: Actor
    member: Actor
    object_uri: str
    object: StoredObject | None
    held_at: datetime
    reason: str

    @property
    def reason_text(self) -> str:
        return REASON_TEXT.get(self.reason, self.reason)


async def find_held(session: AsyncSession, hub_id: int, object_uri: str) -> HeldPost | None:
    return await session.scalar(select(HeldPost).where(HeldPost.hub_id == hub_id, HeldPost.object_uri == object_uri))


async def waiting_count(session: AsyncSession, hub_id: int, member_id: int | None = None) -> int:
    query = select(func.count()).select_from(HeldPost).where(HeldPost.hub_id == hub_id, HeldPost.decided_at.is_(None))
    if member_id is not None:
        query = query.where(HeldPost.member_id == member_id)
    return int(await session.scalar(query) or 0)


async def hold_post(
    session: AsyncSession, hub_id: int, member_id: int, object_uri: str, reason: str, now: datetime
) -> HeldPost | None:
    """Put a post in the hub's review list; None when it is already there (or was decided) or the
    member already has MAX_WAITING_PER_MEMBER posts waiting."""
    if await find_held(session, hub_id, object_uri) is not None:
        return None
    if await waiting_count(session, hub_id, member_id) >= MAX_WAITING_PER_MEMBER:
        log.info("hub=%s member=%s review list full; %s is not held", hub_id, member_id, object_uri)
        return None
    row = HeldPost(hub_id=hub_id, member_id=member_id, object_uri=object_uri, reason=reason, held_at=now)
    session.add(row)
    await session.flush()
    return row


async def list_held_posts(
    session: AsyncSession, hub_id: int | None = None, *, member_id: int | None = None, limit: int = 200
) -> list[HeldItem]:
    """Posts waiting for a hub admin's decision, oldest first: every hub's, or only ``hub_id``'s
    (and only ``member_id``'s posts when given)."""
    stored = aliased(StoredObject)
    query = (
        select(HeldPost, stored)
        .outerjoin(stored, stored.uri == HeldPost.object_uri)
        # A post deleted without a Delete reaching us (its whole account went) is not worth a decision.
        .where(HeldPost.decided_at.is_(None), stored.deleted_at.is_(None))
        .order_by(HeldPost.held_at, HeldPost.id)
        .limit(limit)
    )
    if hub_id is not None:
        query = query.where(HeldPost.hub_id == hub_id)
    if member_id is not None:
        query = query.where(HeldPost.member_id == member_id)
    rows = (await session.execute(query)).all()
    return [
        HeldItem(id=held.id, hub=held.hub, member=held.member, object_uri=held.object_uri, object=obj,
                 held_at=held.held_at, reason=held.reason)
        for held, obj in rows
    ]


def decide(row: HeldPost, decision: str, now: datetime) -> None:
    """Mark a held post "boosted", "discarded" or "retracted"; it leaves the review list."""
    row.decision, row.decided_at = decision, now


async def retract_held(session: AsyncSession, object_uri: str, now: datetime) -> None:
    """Its author deleted (or cancelled) the post: it leaves every hub's review list."""
    rows = (
        await session.scalars(
            select(HeldPost).where(HeldPost.object_uri == object_uri, HeldPost.decided_at.is_(None))
        )
    ).all()
    for row in rows:
        decide(row, "retracted", now)


async def discard_waiting(session: AsyncSession, hub_id: int, member_id: int, now: datetime) -> None:
    """The member left or was removed: its waiting posts leave the hub's review list."""
    await session.execute(
        update(HeldPost)
        .where(HeldPost.hub_id == hub_id, HeldPost.member_id == member_id, HeldPost.decided_at.is_(None))
        .values(decision="discarded", decided_at=now)
    )
