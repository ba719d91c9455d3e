"""Named queries shared by the domain and the web layer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Follow


async def count_follows(session: AsyncSession, *conditions: Any) -> int:
    """How many follow rows match ``conditions`` (e.g. a target's accepted followers)."""
    return int(await session.scalar(select(func.count()).select_from(Follow).where(*conditions)) or 0)
