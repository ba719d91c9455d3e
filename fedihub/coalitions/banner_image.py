"""Banner images of calls and coalitions: an upload checked by decoding, cleaned, resized and re-encoded.

Pure and synchronous (Pillow); ``process_banner`` runs it on a worker thread so a large photo
never stalls the event loop.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio.to_thread

from fedihub.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from fedihub.i18n.active import gettext

if TYPE_CHECKING:
    from PIL import Image

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Checked from the header before any pixel is decoded: a 40-megapixel photo is a big phone's;
# a 50 kB PNG claiming 30,000 × 30,000 is a decompression bomb (Pillow's own guard trips only at
# 2 × Image.MAX_IMAGE_PIXELS, about 179 megapixels, which is too late for a small server).
MAX_SOURCE_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Wide enough for a page's full width and for link previews (og:image wants 1200 px); a flyer
# keeps its shape, so both sizes fit inside a box instead of being cropped.
BANNER_BOX = (1200, 1200)
THUMBNAIL_BOX = (400, 400)
JPEG_QUALITY = 85
MAX_ALT = 1_500  # Mastodon's limit for a media description


@dataclass(frozen=True)
class ProcessedImage:
    """A clean re-encoded banner and its thumbnail (same format), ready to store."""

    data: bytes
    thumbnail: bytes
    content_type: str  # image/jpeg, or image/png when the picture has transparency
    width: int
    height: int

    @property
    def digest(self) -> str:
        """The content hash that names it in URLs (so the bytes behind a URL never change)."""
        return hashlib.sha256(self.data).hexdigest()[:32]

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


def check_alt(text: str, field: str = "image_alt") -> str:
    """Alt text is required with every image: it is what screen readers and Mastodon's
    "description" show."""
    alt = " ".join(text.split())
    if not alt:
        raise InvalidInput(gettext("describe the image for people who cannot see it (alt text)"), field=field)
    if len(alt) > MAX_ALT:
        raise InvalidInput(
            gettext("the image description has at most %(limit)s characters", limit=MAX_ALT), field=field,
        )
    return alt


def _decode(data: bytes, field: str) -> Image.Image:
    # Pillow is imported when an image comes: an idle server does not hold its 2 MB.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            width, height = source.size
            if width * height > MAX_SOURCE_PIXELS:
                raise InvalidInput(
                    gettext(
                        "the image is %(width)s × %(height)s pixels; at most %(millions)s million pixels can be used",
                        width=width, height=height, millions=MAX_SOURCE_PIXELS // 1_000_000,
                    ), field=field,
                )
            source.seek(0)  # animated GIF or WebP: the first frame is the banner
            # JPEG can decode at 1/2, 1/4 or 1/8 scale, still at least the banner's size: a 12 MP
            # phone photo then costs a fraction of the time and memory.
            side = max(BANNER_BOX)
            source.draft("RGB", (side, side))
            source.load()
            # Applied before the metadata goes: a phone photo stands the way it was taken.
            return ImageOps.exif_transpose(source)
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise InvalidInput(gettext("the image has too many pixels to be used"), field=field) from None
    except UnidentifiedImageError:
        raise UnsupportedMediaType(gettext("this file is not a JPEG, PNG, WebP or GIF image"), field=field) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput(gettext("this image file is damaged or incomplete"), field=field) from None


def _has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getextrema()[-1][0] < 255  # type: ignore[index]  # an opaque alpha channel is no alpha
    return image.mode == "P" and "transparency" in image.info


def _encode(image: Image.Image, box: tuple[int, int], alpha: bool) -> bytes:
    from PIL import Image  # on first use, as in _decode

    resized = image.copy()
    resized.thumbnail(box, Image.Resampling.LANCZOS)
    # A fresh image has an empty `info`: no EXIF (GPS, camera), XMP, ICC profile, comments or text
    # chunks of the upload can reach the encoder.
    clean = Image.new(resized.mode, resized.size)
    clean.paste(resized)
    out = io.BytesIO()
    if alpha:
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def build_banner(data: bytes, field: str = "image") -> ProcessedImage:
    """Decode an upload (JPEG, PNG, WebP or GIF, judged by its content only), apply its EXIF
    orientation, drop every piece of metadata and re-encode a banner and a thumbnail."""
    from PIL import Image  # on first use, as in _decode

    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            gettext("the image is larger than %(limit)s MB", limit=MAX_UPLOAD_BYTES // 1024 // 1024), field=field
        )
    if not data:
        raise InvalidInput(gettext("the chosen image file is empty"), field=field)
    image = _decode(data, field)
    alpha = _has_alpha(image)
    image = image.convert("RGBA" if alpha else "RGB")
    image.thumbnail(BANNER_BOX, Image.Resampling.LANCZOS)
    banner = _encode(image, BANNER_BOX, alpha)
    thumbnail = _encode(image, THUMBNAIL_BOX, alpha)
    with Image.open(io.BytesIO(banner)) as done:
        width, height = done.size
    return ProcessedImage(
        data=banner, thumbnail=thumbnail, content_type="image/png" if alpha else "image/jpeg", width=width,
        height=height,
    )


async def process_banner(data: bytes, field: str = "image") -> ProcessedImage:
    """``build_banner`` on a worker thread: decoding and resizing a photo takes tens of milliseconds."""
    return await anyio.to_thread.run_sync(build_banner, data, field)
