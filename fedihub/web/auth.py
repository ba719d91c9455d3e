"""Who is logged in, CSRF tokens for forms, and the permission checks every page calls."""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.accounts.ratelimit import LoginRateLimiter
from fedihub.accounts.service import (
    ROLES,
    coalitions_of,
    find_account,
    find_membership,
    role_rank,
    session_version,
)
from fedihub.errors import LoginRequired, NotFound, PayloadTooLarge, PermissionDenied
from fedihub.settings import Settings
from fedihub.storage.models import Account, Actor
from fedihub.web.state import runtime_of

__all__ = [
    "coalitions_of", "csrf_input", "csrf_token", "log_in", "log_out", "read_form", "require_account",
    "require_coalition_role", "require_instance_admin",
]

SESSION_COOKIE = "fedihub_session"
SESSION_MAX_AGE = 14 * 24 * 3600
CSRF_FIELD = "csrf_token"
# Avatars may be 2 MB; anything up to this reaches the page's own size check and its message.
MAX_FORM_BYTES = 8 * 1024 * 1024
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 4


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
        async with ctx.sessions() as db:
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


def log_out(request: Request) -> None:
    request.session.clear()
    request.state.account = None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def csrf_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (CSRF_FIELD, escape(csrf_token(request)))


async def read_form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart, size-limited) once its CSRF token checks out."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"the form is too large (over {MAX_FORM_BYTES // (1024 * 1024)} MB)")
    if not hasattr(request, "_body"):
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                raise PayloadTooLarge(f"the form is too large (over {MAX_FORM_BYTES // (1024 * 1024)} MB)")
            chunks.append(chunk)
        # Starlette's form parser reads the cached body instead of the (now consumed) stream.
        request._body = b"".join(chunks)
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES)
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, str(expected)):
        raise PermissionDenied("csrf token missing or wrong", public_message="The form expired: reload the page and try again.")
    return form


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
        raise LoginRequired("log in first")
    return account


async def require_instance_admin(request: Request) -> Account:
    account = await require_account(request)
    if not account.is_admin:
        raise PermissionDenied("only the administrators of this server can do that")
    return account


async def require_coalition_role(request: Request, username: str, minimum: str) -> tuple[Account, Actor, str]:
    """The account, the coalition and the account's role, when the role is at least ``minimum``.

    Instance admins count as owners everywhere. 404 when there is no such coalition (checked
    after login, so strangers learn nothing), 403 when the role is too low or missing.
    """
    needed = role_rank(minimum)
    account = await require_account(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions() as session:
        actor = await session.scalar(
            select(Actor).where(
                Actor.local_username == username, Actor.is_local.is_(True), Actor.type == "Group",
                Actor.deleted_at.is_(None),
            )
        )
        if actor is None:
            raise NotFound(f"there is no coalition @{username} here")
        if account.is_admin:
            return account, actor, "owner"
        membership = await find_membership(session, account.id, actor.id)
    if membership is None:
        raise PermissionDenied("you are not a member of this coalition")
    if role_rank(membership.role) < needed:
        raise PermissionDenied(f"this needs the {minimum} role or higher in this coalition; yours is {membership.role}")
    return account, actor, membership.role


def install_template_globals(templates: Jinja2Templates) -> None:
    templates.env.globals.update(csrf_input=csrf_input, csrf_token=csrf_token, coalition_roles=ROLES)


def build_login_limiter() -> LoginRateLimiter:
    return LoginRateLimiter()
