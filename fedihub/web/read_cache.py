"""The in-process cache of rendered public answers: AS2 documents, feeds and anonymous pages.

An answer is kept only when the handler said anyone may have it (``Cache-Control: public``), it set
no cookie, and it depends on nothing but what the key holds: the path and query, the Accept header
and the reader's language. It is served again only while the content generation it was rendered
under is current (storage/content_generation.py: every write of shown content raises it, in any
process) and for at most ``max_age`` seconds, since some pages change with the time alone
("upcoming" calls, "counts as of 5 minutes ago"). Signed-in visitors and signed fetches always reach
the handlers.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedihub.web.conditional import KEPT_ON_304, already_held, strong_etag

# What a key stands for besides path and query; a response varying on anything else is not kept.
KEYED_VARY = frozenset({"accept", "accept-language", "cookie"})
# Requests whose answer may depend on who asks: never answered from the cache.
PERSONAL_HEADERS = (b"authorization", b"signature", b"signature-input", b"range")
# Served elsewhere with their own validators (files, images).
UNCACHED_PREFIXES = ("/static/", "/images/")

Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Entry:
    generation: int
    stored_at: datetime
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 128


class ReadCache:
    """Least recently used entries within ``max_bytes``; built with the app, one per process."""

    def __init__(self, *, max_bytes: int = 32 * 1024 * 1024, max_entry_bytes: int = 1024 * 1024,
                 max_age: timedelta = timedelta(seconds=30)) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.max_age = max_age
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, key: Key, generation: int, now: datetime) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.generation != generation or now - entry.stored_at > self.max_age:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def keep(self, key: Key, entry: Entry) -> None:
        if entry.size > self.max_entry_bytes:
            return
        self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Key) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size


def _key(scope: Scope, headers: Headers) -> Key:
    language = str(scope.get("state", {}).get("language", ""))
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"], query, headers.get("accept", ""), language


def _askable(scope: Scope) -> bool:
    """Whether this request's answer can come from the cache (and go into it)."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("session"):
        return False
    if scope["path"].startswith(UNCACHED_PREFIXES):
        return False
    return not any(name in PERSONAL_HEADERS for name, _ in scope.get("headers", ()))


def _keepable(start: Message) -> bool:
    headers = Headers(raw=start["headers"])
    control = headers.get("cache-control", "").lower()
    vary = {part.strip().lower() for part in headers.get("vary", "").split(",") if part.strip()}
    return (
        start["status"] == 200 and "public" in control and "no-store" not in control
        and "set-cookie" not in headers and "etag" not in headers and "last-modified" not in headers
        and vary <= KEYED_VARY
    )


class ReadCacheMiddleware:
    """Answers public GETs from the cache, and keeps the answers that may be kept.

    Sits inside the session and language middleware (it needs to know there is no session and which
    language was chosen) and outside the per-request loading of the site's name and movements,
    which a cached answer does not need. It answers ``304`` itself for what it serves, with the
    validator ConditionalGetMiddleware would have given the same body.
    """

    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache
        self._rendering: dict[Key, anyio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
        if runtime is None or not _askable(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = _key(scope, headers)
        generation = await runtime.content_generation()
        if generation is None:
            await self.app(scope, receive, send)
            return
        now = runtime.ctx.clock()
        entry = self.cache.find(key, generation, now)
        rendering = self._rendering.get(key)
        if entry is None and rendering is not None:
            # Another request renders this answer now: wait for it rather than render it once more
            # (32 readers arriving together after an edit would otherwise render it 32 times).
            await rendering.wait()
            entry = self.cache.find(key, generation, now)
        if entry is not None:
            await self._answer(entry, headers.get("if-none-match"), send)
            return
        if rendering is not None:  # that answer was not kept (personal, too large): render our own
            await self.app(scope, receive, send)
            return
        done = self._rendering[key] = anyio.Event()
        try:
            await self._render(scope, receive, send, key, generation, now)
        finally:
            del self._rendering[key]
            done.set()

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: Key, generation: int,
                      now: datetime) -> None:
        start: Message | None = None
        body = bytearray()
        keeping = True

        async def capture(message: Message) -> None:
            nonlocal start, keeping
            if message["type"] == "http.response.start":
                start = message
                keeping = _keepable(message)
            elif message["type"] == "http.response.body" and keeping:
                body.extend(message.get("body", b""))
                if len(body) > self.cache.max_entry_bytes:
                    keeping = False
                    body.clear()
                elif not message.get("more_body", False) and start is not None and not scope.get("session"):
                    # Rendering may have started a session (a form's CSRF token): that page is the visitor's.
                    data = bytes(body)
                    self.cache.keep(key, Entry(
                        generation=generation, stored_at=now, status=start["status"],
                        headers=list(start["headers"]), body=data, etag=strong_etag(data),
                    ))
            await send(message)

        await self.app(scope, receive, capture)

    @staticmethod
    async def _answer(entry: Entry, if_none_match: str | None, send: Send) -> None:
        headers = [*entry.headers, (b"etag", entry.etag.encode("latin-1"))]
        if already_held(if_none_match, entry.etag):
            kept = [(k, v) for k, v in headers if k.decode("latin-1").lower() in KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
