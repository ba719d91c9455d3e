"""Peers' pictures shown on our pages: fetched once by the worker, cleaned like an upload, served by us.

Why not show the peer's URL directly: every reader's browser would then contact that server
(it learns who reads what, when), and a hostile server could answer with anything at any size.
Fetched here instead, within a total deadline and a size cap, decoded and re-encoded like an
upload, the picture comes from our origin under a hash, and readers contact nobody else.
A page never fetches: it shows the copy we hold, or none and queues the fetch for the worker, so a
slow or hostile peer never holds one of our pages.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from fedihub.coalitions.banner_image import MAX_UPLOAD_BYTES, process_banner
from fedihub.coalitions.banners import image_path
from fedihub.errors import FedihubError
from fedihub.federation import jobs
from fedihub.federation.context import FederationContext
from fedihub.protocol.http import outbound_deadline
from fedihub.protocol.images import fetch_image
from fedihub.storage.models import Media

log = logging.getLogger(__name__)

REMOTE = "remote"
FAILED = "remote-failed"
FETCH_JOB = "images.fetch-remote"
FETCH_SECONDS = 10.0
# A picture that could not be had is not asked for again at every page view.
RETRY_AFTER = timedelta(hours=1)


def _key(source_url: str, data: bytes = b"") -> str:
    # The same picture may be at two addresses (and an address may change its picture): the
    # address and the cleaned bytes together name the stored copy.
    return hashlib.sha256(source_url.encode() + b"\0" + data).hexdigest()[:32]


async def _cached(ctx: FederationContext, source_url: str) -> Media | None:
    async with ctx.reading() as session:
        return await session.scalar(
            select(Media).where(Media.source_url == source_url, Media.purpose.in_((REMOTE, FAILED)))
            .order_by(Media.id.desc()).limit(1)
        )


def _worth_fetching(found: Media | None, now: datetime) -> bool:
    """No copy, and no failed try younger than RETRY_AFTER."""
    if found is None:
        return True
    return found.purpose == FAILED and (found.expires_at is None or found.expires_at <= now)


async def _forget(ctx: FederationContext, source_url: str) -> None:
    async with ctx.sessions.begin() as session:
        await session.execute(delete(Media).where(Media.source_url == source_url, Media.purpose == FAILED))


async def _store(ctx: FederationContext, row: Media) -> None:
    try:
        async with ctx.sessions.begin() as session:
            session.add(row)
    except IntegrityError:
        pass  # the same copy is stored already (the same address and bytes give the same key)


async def remote_image_for_page(ctx: FederationContext, source_url: str) -> tuple[str, str] | None:
    """Our (banner, thumbnail) paths for a peer's picture when we hold a copy. Otherwise None, and its
    fetch queued for the worker, which is woken; never the peer contacted here.

    Nothing is queued while a failed try is younger than RETRY_AFTER. The job is named by the
    address, so many views before the worker runs queue it once; the next view after shows the copy.
    """
    found = await _cached(ctx, source_url)
    if found is not None and found.purpose == REMOTE:
        extension = "png" if found.content_type == "image/png" else "jpg"
        return image_path(found.key, extension), image_path(found.key, extension, thumbnail=True)
    if _worth_fetching(found, ctx.clock()):
        async with ctx.sessions.begin() as session:
            await jobs.enqueue(
                session, FETCH_JOB, key=jobs.key_of(source_url), payload={"url": source_url}, at=ctx.clock()
            )
        ctx.notify_work()
    return None


async def fetch_remote_image(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The job behind remote_image_for_page: fetch one peer's picture, clean it and keep our copy; a
    picture that cannot be had is marked failed for RETRY_AFTER. No transaction is open during the fetch."""
    source_url = str(payload.get("url") or "")
    now = ctx.clock()
    # Queued twice (a view while this job ran), or the copy came by another way: fetched once only.
    if not source_url or not _worth_fetching(await _cached(ctx, source_url), now):
        return
    try:
        with outbound_deadline(FETCH_SECONDS):
            data = await fetch_image(ctx.http, source_url, max_bytes=MAX_UPLOAD_BYTES, total_timeout=FETCH_SECONDS)
        image = await process_banner(data)
    except FedihubError as exc:
        # Not retried by the job runner: the failure mark says when the next page view may ask again.
        log.info("picture %s not shown: %s", source_url, exc)
        await _forget(ctx, source_url)
        await _store(ctx, Media(
            key=_key(source_url), purpose=FAILED, source_url=source_url, content_type="", width=0, height=0,
            data=b"", created_at=now, expires_at=now + RETRY_AFTER,
        ))
        return
    await _forget(ctx, source_url)
    await _store(ctx, Media(
        key=_key(source_url, image.data), purpose=REMOTE, source_url=source_url, content_type=image.content_type,
        width=image.width, height=image.height, data=image.data, thumbnail=image.thumbnail, created_at=now,
    ))
