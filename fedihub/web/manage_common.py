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
from fedihub.i18n import dates
from fedihub.i18n.active import N_, gettext
from fedihub.notices.store import unread_counts
from fedihub.web.auth import require_coalition_role
from fedihub.web.forms import form_errors
from fedihub.web.state import runtime_of

# (key, path under /manage/<handle>, menu text, lowest role that sees it)
MENU = (
    ("overview", "", N_("Overview"), "editor"),
    ("news", "/news", N_("What's new"), "editor"),
    ("announce", "/announce", N_("Announce"), "editor"),
    ("new-call", "/calls/new", N_("New call to action"), "editor"),
    ("profile", "/profile", N_("Profile"), "admin"),
    ("followers", "/followers", N_("Followers"), "admin"),
    ("requests", "/requests", N_("Follow requests"), "admin"),
    ("following", "/following", N_("Following"), "editor"),
    ("hubs", "/hubs", N_("Hubs"), "editor"),
    ("fediverse", "/fediverse", N_("Fediverse members"), "admin"),
    ("deliveries", "/deliveries", N_("Delivery health"), "admin"),
    ("members", "/members", N_("Members"), "admin"),
    ("moderation", "/moderation", N_("Moderation"), "owner"),
)
# Shown only on hubs (fedihub/web/manage_hubs.py).
HUB_MENU = (
    ("roster", "/roster", N_("Hub members"), "editor"),
    ("rules", "/rules", N_("Boost rules"), "admin"),
    ("review", "/review", N_("Review list"), "admin"),
)

# What just happened, shown once after a redirect (?done=…); fixed texts, nothing reflected. Labels,
# titles and notices are marked for the catalogue (N_) and translated in Page.context.
NOTICES = {
    "profile": N_("The profile is saved. Your followers' servers are getting the new version."),
    "profile-unchanged": N_("Nothing had changed, so nothing was sent."),
    "announced": N_("The announcement is posted and on its way to your followers."),
    "call-created": N_("The call to action is published and on its way to your followers."),
    "call-updated": N_("The changes are saved and sent to your followers."),
    "call-cancelled": N_("The call to action is cancelled. It stays visible, marked as cancelled."),
    "deleted": N_("Deleted. Other servers are asked to remove it too."),
    "followed": N_("Follow request sent. Their posts appear on the overview once they accept."),
    "unfollowed": N_("No longer following."),
    "approved": N_("Request approved: they now receive your posts."),
    "rejected": N_("Request rejected."),
    "removed": N_("Follower removed. Their server has been told."),
    "reply-hidden": N_("Hidden: the reply is no longer shown under the call or listed in its replies."),
    "reply-shown": N_("Shown again under the call."),
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
                (k, self.base + p, gettext(t), m)
                for k, p, t, m in (*MENU[:1], *(HUB_MENU if hub_scope_of(self.coalition) else ()), *MENU[1:])
                if rank >= role_rank(m)
            ],
            "active": active,
            "unread": self.unread,
            "page_title": gettext(title),
            "notice": gettext(NOTICES.get(self.request.query_params.get("done", ""), "")) or None,
            **extra,
        }


async def page(request: Request, minimum: str) -> Page:
    account, actor, role = await require_coalition_role(request, request.path_params["handle"].lower(), minimum)
    async with runtime_of(request).ctx.reading() as session:
        unread = (await unread_counts(session, account.id, [actor.id])).get(actor.id, 0)
    return Page(request, actor, role, unread)


def date_text(moment: datetime) -> str:
    return f"{dates.date_time(moment)} UTC"
