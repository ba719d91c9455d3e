"""Per request: choose the reader's language, make it active, and say so in the response headers."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedihub.i18n.active import using
from fedihub.i18n.catalogues import Catalogues
from fedihub.i18n.languages import COOKIE, negotiate


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header from a client: as if it had none
                return None
            if name in jar:
                return jar[name].value
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class LanguageMiddleware:
    """Sets ``request.state.language`` and activates its catalogue for everything the request renders."""

    def __init__(self, app: ASGIApp, catalogues: Catalogues, default: str) -> None:
        self.app = app
        self.catalogues = catalogues
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = negotiate(_cookie(scope, COOKIE), _header(scope, b"accept-language"), self.default)
        scope.setdefault("state", {})["language"] = language

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Pages differ by the header and by the switcher's cookie: caches must keep them apart.
                headers.add_vary_header("Accept-Language")
                headers.add_vary_header("Cookie")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Language", language)
            await send(message)

        with using(language, self.catalogues.get(language)):
            await self.app(scope, receive, send_with_headers)
