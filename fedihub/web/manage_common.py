"""What every organizer page shares: the coalition in question, the menu, form values and errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedihub.accounts.service import role_rank
from fedihub.coalitions import Actor
from fedihub.errors import FedihubError
from fedihub.hubs.settings import hub_scope_of
from fedihub.notices.store import unread_counts
from fedihub.web.auth import require_coalition_role
from fedihub.web.forms import form_errors
from fedihub.web.state import runtime_of

# (key, path under /manage/<handle>, menu text, lowest role that sees it)
MENU = (
    ("overview", "", "Overview", "editor"),
    ("news", "/news", "What's new", "editor"),
    ("announce", "/announce", "Announce", "editor"),
    ("new-call", "/calls/new", "New call to action", "editor"),
    ("profile", "/profile", "Profile", "admin"),
    ("followers", "/followers", "Followers", "admin"),
    ("requests", "/requests", "Follow requests", "admin"),
    ("following", "/following", "Following", "editor"),
    ("hubs", "/hubs", "Hubs", "editor"),
    ("fediverse", "/fediverse", "Fediverse members", "admin"),
    ("deliveries", "/deliveries", "Delivery health", "admin"),
    ("members", "/members", "Members", "admin"),
    ("moderation", "/moderation", "Moderation", "owner"),
)
# Shown only on hubs (fedihub/web/manage_hubs.py).
HUB_MENU = (
    ("roster", "/roster", "Hub members", "editor"),
    ("rules", "/rules", "Boost rules", "admin"),
    ("review", "/review", "Review list", "admin"),
)

# What just happened, shown once after a redirect (?done=…); fixed texts, nothing reflected.
NOTICES = {
    "profile": "The profile is saved. Your followers' servers are getting the new version.",
    "profile-unchanged": "Nothing had changed, so nothing was sent.",
    "announced": "The announcement is posted and on its way to your followers.",
    "call-created": "The call to action is published and on its way to your followers.",
    "call-updated": "The changes are saved and sent to your followers.",
    "call-cancelled": "The call to action is cancelled. It stays visible, marked as cancelled.",
    "deleted": "Deleted. Other servers are asked to remove it too.",
    "followed": "Follow request sent. Their posts appear on the overview once they accept.",
    "unfollowed": "No longer following.",
    "approved": "Request approved: they now receive your posts.",
    "rejected": "Request rejected.",
    "removed": "Follower removed. Their server has been told.",
    "reply-hidden": "Hidden: the reply is no longer shown under the call or listed in its replies.",
    "reply-shown": "Shown again under the call.",
}


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "private, no-store"  # organizer pages: never kept by any cache
    return response


def done(path: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={what}", status_code=303)


def errors_of(exc: FedihubError, known: Iterable[str], default: str = "") -> dict[str, str]:
    """Every message keyed by the field it is about, or by ``default`` when no field shows it (forms.py)."""
    return form_errors(exc, known, default)


@dataclass(frozen=True)
class Page:
    """Who is asking about which coalition: the context every coalition page starts from."""

    request: Request
    coalition: Actor
    role: str
    unread: int = 0  # notices this account has not seen yet (the menu shows the count)

    @property
    def handle(self) -> str:
        return self.coalition.username or ""

    @property
    def base(self) -> str:
        return f"/manage/{self.handle}"

    def context(self, active: str, title: str, **extra: Any) -> dict[str, Any]:
        rank = role_rank(self.role)
        return {
            "coalition": self.coalition,
            "role": self.role,
            "can_admin": rank >= role_rank("admin"),
            "domain": runtime_of(self.request).settings.domain,
            "menu": [
                (k, self.base + p, t, m)
                for k, p, t, m in (*MENU[:1], *(HUB_MENU if hub_scope_of(self.coalition) else ()), *MENU[1:])
                if rank >= role_rank(m)
            ],
            "active": active,
            "unread": self.unread,
            "page_title": title,
            "notice": NOTICES.get(self.request.query_params.get("done", "")),
            **extra,
        }


async def page(request: Request, minimum: str) -> Page:
    account, actor, role = await require_coalition_role(request, request.path_params["handle"].lower(), minimum)
    async with runtime_of(request).ctx.sessions() as session:
        unread = (await unread_counts(session, account.id, [actor.id])).get(actor.id, 0)
    return Page(request, actor, role, unread)


def date_text(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}, {moment:%H:%M} UTC"
