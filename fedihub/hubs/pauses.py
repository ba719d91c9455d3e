"""Paused members: a hub admin stops a member's posts from being boosted without removing the member.

While paused, the member's new posts wait in the hub's review list (hubs/review.py, reason "paused")
instead of being boosted; resuming boosts only what the member publishes afterwards, and what waits
stays for the admins to boost or discard. Nothing is sent to anyone: a pause is the hub's own business.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import PausedMember


async def is_paused(session: AsyncSession, hub_id: int, member_id: int) -> bool:
    return await session.get(PausedMember, (hub_id, member_id)) is not None


async def paused_member_ids(session: AsyncSession, hub_id: int) -> set[int]:
    rows = await session.scalars(select(PausedMember.member_id).where(PausedMember.hub_id == hub_id))
    return set(rows.all())


async def pause(session: AsyncSession, hub_id: int, member_id: int, now: datetime) -> bool:
    """Pause a member; False when it was paused already."""
    if await is_paused(session, hub_id, member_id):
        return False
    session.add(PausedMember(hub_id=hub_id, member_id=member_id, paused_at=now))
    await session.flush()
    return True


async def resume(session: AsyncSession, hub_id: int, member_id: int) -> bool:
    """Resume a paused member; False when it was not paused."""
    result = await session.execute(
        delete(PausedMember).where(PausedMember.hub_id == hub_id, PausedMember.member_id == member_id)
    )
    return bool(getattr(result, "rowcount", 0))
