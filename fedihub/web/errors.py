"""The one place errors become HTTP responses: JSON for peers, a finished page for people."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedihub.errors import AuthenticationFailed, FedihubError, LoginRequired, RateLimited, TemporarilyUnavailable
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.media_types import accepts_activitypub
from fedihub.web.auth import login_url

log = logging.getLogger(__name__)

TITLES = {
    400: N_("That request did not make sense"),
    401: N_("Not signed"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Not allowed here"),
    409: N_("Already exists"),
    410: N_("This is gone"),
    413: N_("Too large"),
    415: N_("Unsupported format"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong on our side"),
    502: N_("Another server did not answer properly"),
}


def _wants_html(request: Request) -> bool:
    if request.method == "POST" and request.url.path.endswith("inbox"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not accepts_activitypub(accept)


def error_response(request: Request, status: int, message: str) -> Response:
    if _wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(
            # Translated here, the one boundary every error crosses: a message marked for the catalogue
            # (N_) reads in the reader's language; one made of a peer's or a user's words stays as it is.
            request, "error.html",
            {"status": status, "title": gettext(TITLES.get(status, N_("Error"))),
             "message": gettext(message) if message else message},
            status_code=status,
        )
    if request.url.path.endswith("inbox"):
        return PlainTextResponse(message, status_code=status)
    return JSONResponse({"error": message}, status_code=status)


async def handle_fedihub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FedihubError)
    if isinstance(exc, LoginRequired) and not accepts_activitypub(request.headers.get("accept", "")):
        # A person (or a form) that needs a session: send them to log in and back here after.
        return RedirectResponse(login_url(request), status_code=303)
    if exc.status_code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    elif isinstance(exc, AuthenticationFailed):
        # The detail (who signed, which key) helps operators; the peer gets the short reason.
        log.info("%s %s refused: %s", request.method, request.url.path, exc)
    response = error_response(request, exc.status_code, exc.public_message)
    if isinstance(exc, RateLimited):
        # Every fediverse server retries a 429 and honours Retry-After (Mastodon, Pleroma, GoToSocial).
        log.info("%s %s limited: %s", request.method, request.url.path, exc)
        response.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, TemporarilyUnavailable):
        # A 503 is retried like a 429 (Mastodon's DeliveryWorker retries every 5xx, RFC 9110 §15.6.4).
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code != 404 else N_("There is nothing at this address.")
    return error_response(request, exc.status_code, detail)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("%s %s crashed", request.method, request.url.path)
    return error_response(request, 500, N_("Something went wrong on our side. It has been logged."))


def exception_handlers() -> dict[Any, Any]:
    return {FedihubError: handle_fedihub_error, HTTPException: handle_http_exception}


class CrashPageMiddleware:
    """Turns an unexpected exception into the apology page, inside the security-headers middleware.

    Starlette hands handlers for ``Exception`` to its outermost error middleware, which would
    send the 500 page without our Content-Security-Policy and friends.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await handle_unexpected(Request(scope), exc)
            await response(scope, receive, send)
