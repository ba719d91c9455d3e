"""Who is logged in, CSRF tokens for forms, and the permission checks every page calls."""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.accounts import Account
from fedihub.accounts.ratelimit import LoginRateLimiter
from fedihub.accounts.service import (
    ROLES,
    coalitions_of,
    end_sessions,
    find_account,
    find_membership,
    role_rank,
    session_version,
)
from fedihub.coalitions import Actor
from fedihub.coalitions.queries import find_coalition
from fedihub.errors import LoginRequired, NotFound, PermissionDenied
from fedihub.i18n.active import gettext
from fedihub.protocol.urls import http_url
from fedihub.settings import Settings
from fedihub.web.forms import csrf_input, csrf_token
from fedihub.web.state import runtime_of

__all__ = [
    "coalitions_of", "csrf_input", "csrf_token", "log_in", "log_out", "require_account",
    "require_coalition_role", "require_instance_admin",
]

SESSION_COOKIE = "fedihub_session"
SESSION_MAX_AGE = 14 * 24 * 3600


def session_middleware(settings: Settings) -> list[Middleware]:
    """Signed cookie session (only the account id, a session version and the CSRF token) and the
    middleware that loads the account for every request."""
    return [
        Middleware(
            SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE, same_site="lax", https_only=settings.base_url.startswith("https://"),
        ),
        Middleware(AccountMiddleware),
    ]


class AccountMiddleware:
    """Sets ``request.state.account`` (an Account or None) from the session cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["account"] = await self._load(scope)
        await self.app(scope, receive, send)

    async def _load(self, scope: Scope) -> Account | None:
        session = scope.get("session")
        # Requests without a session (every ActivityPub request) never touch the database here.
        if not session or "account_id" not in session:
            return None
        session.mark_accessed()  # the page depends on the cookie: Vary: Cookie
        ctx = scope["app"].state.runtime.ctx
        async with ctx.reading() as db:
            account = await find_account(db, int(session["account_id"]))
        if account is None or account.disabled_at is not None or session.get("version") != session_version(account):
            # Disabled, deleted, or its password changed since: this session is over.
            session.clear()
            return None
        return account


def log_in(request: Request, account: Account) -> None:
    """Start a fresh session for ``account`` (nothing from before login survives: no fixation)."""
    request.session.clear()
    request.session.update(
        account_id=account.id, version=session_version(account), csrf=secrets.token_urlsafe(32)
    )
    request.state.account = account


async def log_out(request: Request) -> None:
    """End the session here and revoke every cookie the account was issued (a copy captured before
    logging out must not work after it)."""
    account: Account | None = getattr(request.state, "account", None)
    if account is not None:
        async with runtime_of(request).ctx.sessions.begin() as db:
            await end_sessions(db, account.id)
    request.session.clear()
    request.state.account = None


def login_url(request: Request) -> str:
    """Where to log in, coming back to this page (for a form post: the page the form was on)."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # After logging in the browser would GET a POST-only address and see 405: go back instead.
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc != request.url.netloc or not referer.path:
            return "/login"
        target = referer.path + (f"?{referer.query}" if referer.query else "")
    return f"/login?next={quote(target, safe='/')}"


def safe_next(value: str | None, default: str = "/dashboard") -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\n" in value or "\r" in value:
        return default
    return value


async def require_account(request: Request) -> Account:
    account: Account | None = getattr(request.state, "account", None)
    if account is None:
        raise LoginRequired(gettext("log in first"))
    return account


async def require_instance_admin(request: Request) -> Account:
    account = await require_account(request)
    if not account.is_admin:
        raise PermissionDenied(gettext("only the administrators of this server can do that"))
    return account


async def require_coalition_role(request: Request, username: str, minimum: str) -> tuple[Account, Actor, str]:
    """The account, the coalition and the account's role, when the role is at least ``minimum``.

    Instance admins count as owners everywhere. 404 when there is no such coalition (checked
    after login, so strangers learn nothing), 403 when the role is too low or missing.
    """
    needed = role_rank(minimum)
    account = await require_account(request)
    ctx = runtime_of(request).ctx
    async with ctx.reading() as session:
        actor = await find_coalition(session, username)
        if actor is None:
            raise NotFound(gettext("there is no coalition @%(username)s here", username=username))
        if account.is_admin:
            return account, actor, "owner"
        membership = await find_membership(session, account.id, actor.id)
    if membership is None:
        raise PermissionDenied(gettext("you are not a member of this coalition"))
    if role_rank(membership.role) < needed:
        raise PermissionDenied(gettext(
            "this needs the %(minimum)s role or higher in this coalition; yours is %(role)s",
            minimum=gettext(minimum), role=gettext(membership.role),
        ))
    return account, actor, membership.role


def install_template_globals(templates: Jinja2Templates) -> None:
    templates.env.globals.update(csrf_input=csrf_input, csrf_token=csrf_token, coalition_roles=ROLES)
    # `{{ x | web_link }}`: a remote URL as an href only when it is http(s), else None (no link). The
    # reader already keeps only such links; this covers what was stored before it did.
    templates.env.filters["web_link"] = http_url


def build_login_limiter() -> LoginRateLimiter:
    return LoginRateLimiter()
