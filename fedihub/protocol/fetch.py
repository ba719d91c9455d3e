"""Fetching ActivityPub documents from peers, with Mastodon's acceptance rules (spec §1.5)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx

from fedihub.errors import (
    InvalidInput,
    MalformedActivity,
    RemoteGone,
    RemoteInvalid,
    RemoteNotFound,
    RemoteUnavailable,
)
from fedihub.i18n.active import gettext
from fedihub.protocol.hosts import has_userinfo
from fedihub.protocol.http import ResponseTooLarge
from fedihub.protocol.jsonld import canonical_document
from fedihub.protocol.limits import MAX_DOCUMENT_BYTES
from fedihub.protocol.media_types import ACCEPT_ACTIVITYPUB, is_activitypub_media_type
from fedihub.protocol.reader import decode_json, is_public_address
from fedihub.protocol.vocab import ACTOR_TYPES

TOTAL_TIMEOUT = 30.0  # per-read timeouts alone let a peer drip bytes forever


def unreachable(url: str, exc: Exception) -> RemoteUnavailable:
    """``url`` could not be fetched: the client's words for the logs, plain ones for people.

    The exception's type alone misleads: httpx-aiohttp maps a refused connection to
    ConnectTimeout, while its message says what really happened. That message ("Cannot connect
    to host … ssl:default [Connect call failed …]") is for operators, never for a page.
    """
    detail = str(exc).strip() or type(exc).__name__
    host = httpx.URL(url).host or url
    return RemoteUnavailable(
        f"{url} could not be fetched: {detail}",
        public_message=gettext(
            "%(host)s could not be reached: it may be down, or the address may be mistyped. Try again later.", host=host
        ),
    )


def check_fetchable_url(url: str) -> httpx.URL:
    """Only absolute http(s) URLs may be fetched."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidInput(f"not a valid URL: {url!r}",
                           public_message=gettext("not a valid URL: %(url)r", url=url)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(f"only http and https URLs can be fetched, not {url!r}", public_message=gettext(
            "only http and https URLs can be fetched, not %(url)r", url=url))
    if has_userinfo(url):
        # http://x@blocked.example/ was used to slip past domain blocks; no server mints such ids.
        raise InvalidInput(f"{url!r} has a user name before its host; such ids are refused", public_message=gettext(
            "%(url)r has a user name before its host; such addresses are refused", url=url))
    return parsed


async def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed (decompressed) body, refusing it as soon as it grows past ``max_bytes``."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").lower()
    if declared.isdigit() and encoding == "identity" and int(declared) > max_bytes:
        raise RemoteInvalid(f"{response.url} is {declared} bytes, more than {max_bytes}")
    body = bytearray()
    # Counting decoded bytes also stops gzip bombs (P20: httpx inflates transparently).
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise RemoteInvalid(f"{response.url} is larger than {max_bytes} bytes")
    return bytes(body)


def raise_for_status(response: httpx.Response) -> None:
    """Map a non-200 answer to the error tree."""
    status = response.status_code
    url = response.url
    if status == 200:
        return
    if status == 404:
        raise RemoteNotFound(f"{url} answered 404")
    if status == 410:
        raise RemoteGone(f"{url} answered 410")
    if status in (401, 403):
        # Mastodon in authorized-fetch mode answers this to unsigned or unknown signers (§1.4).
        raise RemoteInvalid(
            f"{url} answered {status}: the server may require authorized fetch (a signed GET)",
            public_message=gettext(
                "%(url)s answered %(status)d: the server may require authorized fetch (a signed GET)",
                url=url, status=status,
            ),
        )
    if 300 <= status < 400:
        location = response.headers.get("location", "?")
        raise RemoteInvalid(
            f"{url} redirected to {location}; ActivityPub ids must not redirect",
            public_message=gettext("%(url)s redirected to %(location)s; ActivityPub ids must not redirect",
                                   url=url, location=location),
        )
    if status in (408, 429) or status >= 500:
        raise RemoteUnavailable(f"{url} answered {status}")
    raise RemoteInvalid(f"{url} answered {status}")


def decode_json_object(body: bytes, url: str) -> dict[str, Any]:
    """Parse a body that must be one JSON object."""
    try:
        document = decode_json(body)
    except MalformedActivity as exc:
        raise RemoteInvalid(f"{url}: {exc}",
                            public_message=gettext("%(url)s did not return valid JSON", url=url)) from None
    if not isinstance(document, dict):
        raise RemoteInvalid(f"{url} returned JSON that is not an object")
    return document


async def fetch_activitypub_document(
    client: httpx.AsyncClient,
    url: str,
    *,
    auth: httpx.Auth | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    total_timeout: float = TOTAL_TIMEOUT,
) -> dict[str, Any]:
    """GET an ActivityPub document whose ``id`` is exactly ``url``.

    Raises RemoteNotFound (404), RemoteGone (410), RemoteUnavailable (network, timeout, 429,
    5xx), RemoteInvalid (anything Mastodon would discard), ForbiddenAddress (SSRF guard) and
    InvalidInput (not an http(s) URL).
    """
    check_fetchable_url(url)
    if is_public_address(url):
        # A peer may name the Public collection where an object belongs (`object: as:Public`): it is an
        # address, not a document, and a fetch would only ask w3.org for its context (and be retried).
        raise RemoteInvalid(f"{url} is the Public collection, not a document")
    try:
        with anyio.fail_after(total_timeout):
            async with client.stream(
                "GET",
                url,
                headers={"Accept": ACCEPT_ACTIVITYPUB},
                auth=auth,
                follow_redirects=False,
            ) as response:
                raise_for_status(response)
                content_type = response.headers.get("content-type")
                if not is_activitypub_media_type(content_type):
                    # Mastodon >= 4.2.5 drops these (GHSA-3fjr-858r-92rw, spec §1.5, P11).
                    raise RemoteInvalid(f"{url} has content type {content_type!r}, not ActivityPub",
                                        public_message=gettext("%(url)s has content type %(type)r, not ActivityPub",
                                                               url=url, type=content_type))
                body = await read_limited(response, max_bytes)
    except TimeoutError as exc:
        raise RemoteUnavailable(f"{url} took longer than {total_timeout} s") from exc
    except httpx.DecodingError as exc:
        raise RemoteInvalid(f"{url} sent a body that cannot be decoded") from exc
    except ResponseTooLarge as exc:  # the shared client's cap, when it is below ours
        raise RemoteInvalid(str(exc)) from exc
    except httpx.TransportError as exc:  # includes httpx.TimeoutException and the client's DeadlineExceeded
        raise unreachable(url, exc) from exc
    try:
        # The same reading as an inbound activity's: plain JSON, or canonicalised JSON-LD when its
        # @context defines terms we do not know; a context that redefines core terms is refused.
        document = canonical_document(decode_json_object(body, url))
    except MalformedActivity as exc:
        raise RemoteInvalid(f"{url}: {exc}", public_message=gettext(
            "%(url)s sent a document fedihub cannot accept: %(reason)s", url=url, reason=exc.public_message
        )) from exc
    if document.get("id") != url:
        # Mastodon only trusts a document served from its own id (P13, mastodon#9390).
        raise RemoteInvalid(f"{url} returned a document with id {document.get('id')!r}", public_message=gettext(
            "%(url)s returned a document with another id, %(id)r", url=url, id=document.get("id")))
    return document


def _types(document: dict[str, Any]) -> set[str]:
    value = document.get("type")
    values = value if isinstance(value, list) else [value]
    return {v for v in values if isinstance(v, str)}


async def fetch_actor_document(
    client: httpx.AsyncClient, url: str, *, auth: httpx.Auth | None = None
) -> dict[str, Any]:
    """GET an actor: an ActivityPub document of an actor type, with an inbox, on the URL's host."""
    document = await fetch_activitypub_document(client, url, auth=auth)
    if not _types(document) & ACTOR_TYPES:
        raise RemoteInvalid(f"{url} is a {document.get('type')!r}, not an actor", public_message=gettext(
            "%(url)s is a %(type)r, not an actor", url=url, type=document.get("type")))
    inbox = document.get("inbox")
    if not isinstance(inbox, str) or not inbox:
        raise RemoteInvalid(f"actor {url} has no inbox",
                            public_message=gettext("the actor %(url)s has no inbox", url=url))
    # Already implied by id == url today; kept so a relaxed id rule can never let one host
    # speak for another's actors.
    if check_fetchable_url(document["id"]).host != httpx.URL(url).host:
        raise RemoteInvalid(f"actor {url} has an id on another host")
    return document
