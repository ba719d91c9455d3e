"""Marks people's requests as foreground work, so the in-process queue worker makes room for them.

People are whoever does not ask for ActivityPub: a browser, a feed reader, a calendar. Servers'
document fetches are not counted (during a boost a thousand of them arrive, mostly answered from the
read cache, and they must not pin the worker at its narrow width), nor are inbox POSTs, which take
the short way (inbox_path.py) and never reach this middleware.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.protocol.media_types import accepts_activitypub


class PeopleFirstMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
        if (runtime is None or scope["type"] != "http"
                or accepts_activitypub(Headers(scope=scope).get("accept", ""))):
            await self.app(scope, receive, send)
            return
        with runtime.ctx.foreground.serving():
            await self.app(scope, receive, send)
