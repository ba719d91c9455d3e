"""The periodic sweep of peers' pictures cached by remote_images.py: what no call shows any more, or is old, goes.

Without it the cache only grows: every remote call ever opened leaves its picture behind. A copy is
kept while a stored remote call still names it, for at most ``KEEP_FOR`` after it was fetched; the
next page that shows the picture queues its fetch again (the same bytes give the same key, so its URL
and readers' cached copies stay valid, and a picture the peer changed is picked up).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from fedihub.coalitions.remote_images import FAILED, REMOTE
from fedihub.federation.context import FederationContext
from fedihub.protocol.images import read_event_image
from fedihub.storage.models import Media, StoredObject

log = logging.getLogger(__name__)

REMOTE_IMAGE_SWEEP_JOB = "images.prune-remote"
REMOTE_IMAGE_SWEEP_EVERY = timedelta(hours=6)
KEEP_FOR = timedelta(days=30)
# Rows read or deleted per transaction: a large cache must not hold SQLite's write lock for long.
BATCH = 500


@dataclass(frozen=True)
class SweptImages:
    unreferenced: int
    old: int
    failures: int


async def _referenced_urls(ctx: FederationContext) -> set[str]:
    """Every picture address a stored, not deleted, remote object names (read in id order, a batch at a time)."""
    urls: set[str] = set()
    after = 0
    while True:
        async with ctx.reading() as session:
            rows = (await session.execute(
                select(StoredObject.id, StoredObject.data)
                .where(StoredObject.is_local.is_(False), StoredObject.deleted_at.is_(None), StoredObject.id > after)
                .order_by(StoredObject.id).limit(BATCH)
            )).all()
        for object_id, data in rows:
            after = object_id
            found = read_event_image(data) if isinstance(data, dict) else None
            if found is not None:
                urls.add(found.url)
        if len(rows) < BATCH:
            return urls


async def _delete(ctx: FederationContext, ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH):
        async with ctx.sessions.begin() as session:
            await session.execute(delete(Media).where(Media.id.in_(ids[start:start + BATCH])))


async def sweep_remote_images(ctx: FederationContext, *, now: datetime | None = None) -> SweptImages:
    """Delete cached peers' pictures no stored call names, those fetched over ``KEEP_FOR`` ago, and
    failure marks past their wait; returns how many of each went."""
    now = now or ctx.clock()
    referenced = await _referenced_urls(ctx)
    async with ctx.reading() as session:
        cached = (await session.execute(
            select(Media.id, Media.purpose, Media.source_url, Media.created_at, Media.expires_at)
            .where(Media.purpose.in_((REMOTE, FAILED)))
        )).all()
    unreferenced: list[int] = []
    old: list[int] = []
    failures: list[int] = []
    for media_id, purpose, source_url, created_at, expires_at in cached:
        if purpose == FAILED:
            if expires_at is None or expires_at <= now:
                failures.append(media_id)
        elif source_url not in referenced:
            unreferenced.append(media_id)
        elif created_at <= now - KEEP_FOR:
            old.append(media_id)
    await _delete(ctx, unreferenced + old + failures)
    swept = SweptImages(unreferenced=len(unreferenced), old=len(old), failures=len(failures))
    if unreferenced or old or failures:
        log.info("peers' pictures pruned: %d no longer shown, %d old, %d failure marks",
                 swept.unreferenced, swept.old, swept.failures)
    return swept
