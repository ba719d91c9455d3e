"""The short way in for inbox POSTs: past the page middleware, to a router of the inbox routes only.

A national day is mostly servers POSTing to inboxes. None of those requests has a session, a
language or a page to render, yet the middleware that prepares those, and a search through every
route of the site, cost about a third of accepting one activity. Errors still become answers in the
one place (web/errors.py): the same handlers, and the same apology for a crash.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.web.errors import CrashPageMiddleware, exception_handlers


def is_inbox_post(scope: Scope, inbox_routes: Sequence[BaseRoute]) -> bool:
    """A request one of ``inbox_routes`` serves in full (path and method): the only ones the short way takes.
    A GET of an inbox matches only in part and goes through the whole application (405 there)."""
    if scope["type"] != "http":
        return False
    return any(route.matches(scope)[0] is Match.FULL for route in inbox_routes)


class InboxPathMiddleware:
    """Sends inbox POSTs straight to ``inbox_routes``; everything else goes on through ``app``."""

    def __init__(self, app: ASGIApp, inbox_routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = list(inbox_routes)
        self.inbox: ASGIApp = CrashPageMiddleware(
            ExceptionMiddleware(Router(routes=self.routes), handlers=exception_handlers())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_inbox_post(scope, self.routes):
            await self.inbox(scope, receive, send)
        else:
            await self.app(scope, receive, send)
