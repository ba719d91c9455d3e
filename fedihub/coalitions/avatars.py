"""Coalition avatars: uploads checked by decoding, re-encoded to a clean PNG and served from our origin."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput, PayloadTooLarge
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import gettext
from fedihub.storage.models import Actor, Media

if TYPE_CHECKING:
    from PIL import Image

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Mastodon stores avatars as 400×400, cropped to fill (app/models/concerns/account/avatar.rb).
AVATAR_SIDE = 400
# Refuse decompression bombs from the header alone, before any pixel is decoded.
MAX_SOURCE_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
CONTENT_TYPE = "image/png"


@dataclass(frozen=True)
class AvatarImage:
    png: bytes
    width: int
    height: int


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field="avatar")


def build_avatar(data: bytes) -> AvatarImage:
    """Decode an upload (PNG, JPEG, WebP or GIF only) and re-encode it as a square PNG without metadata.

    The file name and the browser's content type are never trusted: only a successful decode by one
    of the four accepted decoders counts. The result carries no EXIF (GPS), ICC or text chunks.
    """
    # Pillow is imported when an image comes: an idle server does not hold its 2 MB.
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            gettext(
                "the image is %(size).1f MB; the limit is %(limit)s MB",
                size=len(data) / 1024 / 1024, limit=MAX_UPLOAD_BYTES // 1024 // 1024,
            ),
            field="avatar",
        )
    if not data:
        raise _invalid(gettext("choose an image file to upload"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
                width, height = source.size
                if width * height > MAX_SOURCE_PIXELS:
                    raise _invalid(gettext(
                        "the image is %(width)s×%(height)s pixels; that is too large to use as an avatar",
                        width=width, height=height,
                    ))
                # Animated GIF and WebP: the first frame is the avatar.
                source.seek(0)
                source.load()
                image = ImageOps.exif_transpose(source)  # a phone photo stands the way it was taken
                image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid(gettext("the image has too many pixels: it is too large to use as an avatar")) from None
    except UnidentifiedImageError:
        raise _invalid(gettext("this file is not a PNG, JPEG, WebP or GIF image")) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _invalid(gettext("this image file is damaged or incomplete")) from None
    side = min(AVATAR_SIDE, image.width, image.height)
    square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    # A fresh image owns no `info`, so nothing of the upload's metadata can reach the encoder.
    clean = Image.new(square.mode, square.size)
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return AvatarImage(png=out.getvalue(), width=side, height=side)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def media_url(ctx: FederationContext, key: str) -> str:
    return f"{ctx.base_url}/media/{key}.png"


async def store_avatar(ctx: FederationContext, session: AsyncSession, actor: Actor, image: AvatarImage) -> Media:
    """Store a new avatar and point the actor's icon at it; the previous one is removed.

    Each upload gets a new random key, so its URL can be cached forever and peers see the change.
    """
    await remove_avatar(session, actor)
    media = Media(
        key=secrets.token_hex(16), actor_id=actor.id, content_type=CONTENT_TYPE, width=image.width,
        height=image.height, data=image.png, created_at=ctx.clock(),
    )
    session.add(media)
    actor.icon_url = media_url(ctx, media.key)
    return media


async def remove_avatar(session: AsyncSession, actor: Actor) -> None:
    await session.execute(delete(Media).where(Media.actor_id == actor.id))
    actor.icon_url = None


async def find_media(session: AsyncSession, key: str) -> Media | None:
    # Avatars only: the other rows of the table are served by their own route (web/images.py), and
    # an upload kept after a form error is its owner's alone.
    return await session.scalar(select(Media).where(Media.key == key, Media.purpose == "avatar"))
