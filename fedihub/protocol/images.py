"""Images of remote objects and actors: which one a peer means as the banner, and fetching its bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from fedihub.errors import RemoteInvalid, RemoteUnavailable
from fedihub.protocol.fetch import check_fetchable_url, raise_for_status, read_limited, unreachable
from fedihub.protocol.http import ResponseTooLarge
from fedihub.protocol.media_types import media_type_of
from fedihub.protocol.reader import as_list
from fedihub.protocol.urls import http_url

IMAGE_TYPES = frozenset({"Image", "Document"})
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")
ACCEPT_IMAGES = "image/jpeg, image/png, image/webp, image/gif;q=0.9"
# Mobilizon names its banner document "Banner" (framasoft/mobilizon converter/event.ex, spec §2.2):
# a label, not a description of the picture, so it is not used as alt text.
PLACEHOLDER_NAMES = frozenset({"banner"})
MAX_ALT = 1_500  # Mastodon's limit for media descriptions


@dataclass(frozen=True)
class ImageRef:
    """A picture a peer points at: where it is, what it shows (alt text, may be empty), its declared type."""

    url: str
    alt: str
    media_type: str | None


def _is_image(item: Mapping[str, Any]) -> bool:
    media_type = media_type_of(item.get("mediaType") if isinstance(item.get("mediaType"), str) else None)
    if media_type:
        return media_type.startswith("image/")
    # Mobilizon's group images carry "mediaType": null; the file name still says what it is.
    url = _url_of(item) or ""
    return url.split("?", 1)[0].lower().endswith(IMAGE_SUFFIXES)


def _url_of(item: Mapping[str, Any]) -> str | None:
    for value in as_list(item.get("url")) or as_list(item.get("href")):
        if isinstance(value, str):
            return http_url(value)
        if isinstance(value, Mapping) and isinstance(value.get("href"), str):
            return http_url(value["href"])
    return None


def _ref(item: Any) -> ImageRef | None:
    if isinstance(item, str):
        url = http_url(item)
        return ImageRef(url=url, alt="", media_type=None) if url else None
    if not isinstance(item, Mapping) or not _is_image(item):
        return None
    url = _url_of(item)
    if url is None:
        return None
    name = item.get("name")
    alt = name.strip()[:MAX_ALT] if isinstance(name, str) else ""
    if alt.lower() in PLACEHOLDER_NAMES:
        alt = ""
    media_type = item.get("mediaType")
    return ImageRef(url=url, alt=alt, media_type=media_type if isinstance(media_type, str) else None)


def read_event_image(doc: Mapping[str, Any]) -> ImageRef | None:
    """The banner of a remote Event (or Note): the first image attachment, else `image`.

    Mobilizon and Gancio send the banner as the first `attachment` Document (spec §2.2, §2.6);
    the WordPress Event Bridge and FEP-8a8e also use `image`. `Link` attachments (online
    addresses) and non-image media are skipped.
    """
    for item in as_list(doc.get("attachment")):
        if isinstance(item, Mapping) and item.get("type") in IMAGE_TYPES:
            found = _ref(item)
            if found:
                return found
    return read_actor_image(doc)


def read_actor_image(doc: Mapping[str, Any]) -> ImageRef | None:
    """An actor's header (`image`, spec §1.2); PeerTube sends a list of sizes, the first will do."""
    for item in as_list(doc.get("image")):
        found = _ref(item)
        if found:
            return found
    return None


async def fetch_image(client: httpx.AsyncClient, url: str, *, max_bytes: int, total_timeout: float) -> bytes:
    """GET an image's bytes, within a total deadline and a size cap; what they are is decided by decoding.

    Raises RemoteUnavailable (network, timeout, 5xx), RemoteInvalid (too large, not an image
    answer), RemoteNotFound/RemoteGone, ForbiddenAddress (the SSRF guard) and InvalidInput.
    """
    check_fetchable_url(url)
    try:
        with anyio.fail_after(total_timeout):
            # Media servers and CDNs redirect (signed storage URLs): each hop passes the SSRF guard,
            # and the deadline covers them all.
            async with client.stream("GET", url, headers={"Accept": ACCEPT_IMAGES}, follow_redirects=True) as response:
                raise_for_status(response)
                declared = media_type_of(response.headers.get("content-type"))
                if declared and not declared.startswith("image/") and declared != "application/octet-stream":
                    raise RemoteInvalid(f"{url} has content type {declared!r}, not an image")
                return await read_limited(response, max_bytes)
    except TimeoutError as exc:
        raise RemoteUnavailable(f"{url} took longer than {total_timeout} s") from exc
    except httpx.DecodingError as exc:
        raise RemoteInvalid(f"{url} sent a body that cannot be decoded") from exc
    except ResponseTooLarge as exc:
        raise RemoteInvalid(str(exc)) from exc
    except httpx.TransportError as exc:
        raise unreachable(url, exc) from exc
