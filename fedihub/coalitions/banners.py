"""Where banners live: content-addressed Media rows, the calls and coalitions pointing at them, their AS2 shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.banner_image import ProcessedImage
from fedihub.coalitions.pending_images import drop_pending
from fedihub.federation.context import FederationContext
from fedihub.protocol.builders import build_image
from fedihub.storage.models import Actor, Media, StoredObject

IMAGES_PATH = "/images"
BANNER = "banner"
# Served at these names only: a content hash, an optional "-thumb", and the format's extension.
IMAGE_NAME = re.compile(r"^(?P<key>[0-9a-f]{32})(?P<thumb>-thumb)?\.(?P<ext>jpg|png)$")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class BannerChoice:
    """What an organizer asked for: a new image with its alt text, new alt text for the current
    image (``image`` None), or no image any more (``remove``). ``pending_token`` names the kept
    upload the new image came from, removed once the image is applied."""

    image: ProcessedImage | None
    alt: str
    remove: bool = False
    pending_token: str | None = None


def image_path(key: str, extension: str, *, thumbnail: bool = False) -> str:
    return f"{IMAGES_PATH}/{key}{'-thumb' if thumbnail else ''}.{extension}"


def thumbnail_of(url: str) -> str:
    """The thumbnail's URL next to a banner's (same content hash)."""
    stem, _, extension = url.rpartition(".")
    return f"{stem}-thumb.{extension}"


def media_type_of_url(url: str) -> str:
    return MEDIA_TYPES.get(url.rsplit(".", 1)[-1], "image/jpeg")


def banner_properties(actor: Actor) -> dict[str, Any]:
    """The coalition's (or hub's) banner in its actor document (federation/actor_parts.py)."""
    if not actor.image_url:
        return {}
    return {"image": build_image(actor.image_url, actor.image_alt or "", media_type_of_url(actor.image_url))}


async def find_image(session: AsyncSession, key: str) -> Media | None:
    """A banner or a peer's picture fetched through us, by the content hash in its URL."""
    return await session.scalar(select(Media).where(Media.key == key, Media.purpose.in_((BANNER, "remote"))))


async def store_banner(ctx: FederationContext, session: AsyncSession, image: ProcessedImage) -> str:
    """Store a processed image (once per content) and return its URL on our origin."""
    key = image.digest
    found = await session.scalar(select(Media.id).where(Media.key == key))
    if found is None:
        session.add(Media(
            key=key, purpose=BANNER, content_type=image.content_type, width=image.width, height=image.height,
            data=image.data, thumbnail=image.thumbnail, created_at=ctx.clock(),
        ))
    return ctx.base_url + image_path(key, image.extension)


async def _release(ctx: FederationContext, session: AsyncSession, url: str) -> None:
    """Delete the Media row behind a banner URL once nothing points at it any more."""
    found = IMAGE_NAME.match(url.removeprefix(ctx.base_url + IMAGES_PATH + "/"))
    if found is None:
        return
    await session.flush()
    users = await session.scalar(select(func.count()).select_from(StoredObject).where(StoredObject.image_url == url))
    users = (users or 0) + (await session.scalar(
        select(func.count()).select_from(Actor).where(Actor.image_url == url)
    ) or 0)
    if not users:
        await session.execute(delete(Media).where(Media.key == found["key"], Media.purpose == BANNER))


async def apply_banner(
    ctx: FederationContext, session: AsyncSession, target: Actor | StoredObject, choice: BannerChoice
) -> bool:
    """Give a local call or coalition the chosen banner (the caller publishes the change); whether
    anything changed."""
    before = (target.image_url, target.image_alt)
    if choice.remove:
        target.image_url = target.image_alt = None
    elif choice.image is not None:
        target.image_url = await store_banner(ctx, session, choice.image)
        target.image_alt = choice.alt
    elif target.image_url:
        target.image_alt = choice.alt
    if before[0] and before[0] != target.image_url:
        await _release(ctx, session, before[0])
    if choice.pending_token:
        await drop_pending(session, choice.pending_token)
    return before != (target.image_url, target.image_alt)
