"""Deduplication of Announces by (actor, object) before anything is told to anyone.

An Announce is deduplicated by its id at the inbox; a peer that sends the same boost again under
new ids (or undoes and redoes it) must not make us re-send the call's roll-up notice to its whole
audience each time. The first Announce of an object by an actor leaves a mark that stays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import AnnounceMark


async def first_announce(session: AsyncSession, actor_id: int, object_uri: str, now: datetime) -> bool:
    """True exactly once per (actor, object): the first time this actor's Announce of it is handled.

    Two workers racing on the same pair both insert; the unique (actor, object) row lets one commit,
    and the other's retry finds the mark.
    """
    found = await session.scalar(
        select(AnnounceMark.id).where(AnnounceMark.actor_id == actor_id, AnnounceMark.object_uri == object_uri)
    )
    if found is not None:
        return False
    session.add(AnnounceMark(actor_id=actor_id, object_uri=object_uri, first_seen_at=now))
    await session.flush()
    return True
