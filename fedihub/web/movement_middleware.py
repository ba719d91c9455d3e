"""Per request: the instance admin's suggested movements, read at most every few seconds per process."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.coalitions.movement_list import MovementList, load_movements, using_movements

# Another process's edit shows here within this many seconds; this process's own edits at once.
FRESH_SECONDS = 30.0


class MovementCache:
    """The last list read, and when; built with the app, emptied by the admin page after an edit."""

    def __init__(self) -> None:
        self._list: MovementList | None = None
        self._read_at = 0.0

    def invalidate(self) -> None:
        self._list = None

    async def current(self, scope: Scope) -> MovementList:
        now = time.monotonic()
        if self._list is None or now - self._read_at > FRESH_SECONDS:
            async with scope["app"].state.runtime.ctx.reading() as session:
                self._list = await load_movements(session)
            self._read_at = now
        return self._list


class MovementListMiddleware:
    """Pages, forms and the `movement` filter use the admin's list; ActivityPub requests skip it."""

    def __init__(self, app: ASGIApp, cache: MovementCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.endswith("/inbox") or path.startswith(("/static/", "/.well-known/")):
            await self.app(scope, receive, send)
            return
        with using_movements(await self.cache.current(scope)):
            await self.app(scope, receive, send)
