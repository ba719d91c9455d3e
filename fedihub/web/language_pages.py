"""The language switcher: a plain link per language that remembers the choice in a cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts.service import set_language
from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext
from fedihub.i18n.languages import COOKIE, LANGUAGES
from fedihub.web.state import runtime_of

COOKIE_MAX_AGE = 365 * 24 * 3600


def _back_to(value: str | None) -> str:
    """Where to return: a path on this site only (never another host: no open redirect)."""
    parts = urlsplit(value or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def choose_language(request: Request) -> Response:
    language = request.path_params["language"]
    if language not in LANGUAGES:
        raise InvalidInput(gettext("the interface is in %(languages)s; %(language)r is not one of them",
                                   languages=", ".join(LANGUAGES), language=language))
    account = request.state.account
    if account is not None and account.language != language:
        # Remembered on the account too, so the notices e-mailed to this person are written in it.
        async with runtime_of(request).ctx.sessions.begin() as session:
            await set_language(session, account.id, language)
    response = RedirectResponse(_back_to(request.query_params.get("next")), status_code=303)
    # A link, not a form, so it works without JavaScript and without a session; the choice is a
    # harmless preference, so no CSRF token is needed for it.
    response.set_cookie(
        COOKIE, language, max_age=COOKIE_MAX_AGE, samesite="lax", httponly=True,
        secure=runtime_of(request).settings.base_url.startswith("https://"),
    )
    return response


def routes() -> list[BaseRoute]:
    return [Route("/language/{language:str}", choose_language, name="choose_language")]
