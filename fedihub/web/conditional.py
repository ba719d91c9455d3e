"""Revalidation of cacheable answers: a strong ETag on every response a handler marked cacheable, and
``304 Not Modified`` when the client already holds that version."""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Larger answers (none of our documents or pages come close) pass through unbuffered and untagged.
MAX_TAGGED_BYTES = 4 * 1024 * 1024
# What a 304 keeps of the full answer (RFC 9110 §15.4.5).
KEPT_ON_304 = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def already_held(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this version (weak comparison, as RFC 9110 §13.1.2 asks for GETs)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


class ConditionalGetMiddleware:
    """Tags GET and HEAD answers that carry a Cache-Control other than no-store, and answers 304.

    Handlers decide what may be cached and by whom (public documents, feeds and anonymous pages say
    ``public``; a signed-in page ``private``); this adds the validator in one place. An answer that
    sets a cookie is never left ``public``: a shared cache would hand the cookie to someone else.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        body = bytearray()
        passing = False

        async def tag(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                control = headers.get("cache-control", "")
                length = headers.get("content-length")
                if (message["status"] != 200 or not control or "no-store" in control or "etag" in headers
                        or (length is not None and length.isdigit() and int(length) > MAX_TAGGED_BYTES)):
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if len(body) > MAX_TAGGED_BYTES:  # no content-length was given: send what we hold as it is
                passing = True
                await send(start)
                more = message.get("more_body", False)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": more})
                return
            if message.get("more_body", False):
                return
            await self._finish(start, bytes(body), if_none_match, send)

        await self.app(scope, receive, tag)

    @staticmethod
    async def _finish(start: Message, body: bytes, if_none_match: str | None, send: Send) -> None:
        headers = MutableHeaders(raw=list(start["headers"]))
        if "set-cookie" in headers and "public" in headers["cache-control"]:
            headers["cache-control"] = headers["cache-control"].replace("public", "private")
        etag = strong_etag(body)
        headers["etag"] = etag
        if already_held(if_none_match, etag):
            kept = [(k, v) for k, v in headers.raw if k.decode("latin-1").lower() in KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})
