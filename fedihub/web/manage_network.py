"""Organizer pages about the network: followers, follow requests, following, and delivery health."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedihub.errors import FedihubError, InvalidInput, NotFound
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.federation.health import DomainDeliveries, delivery_summary, latest_problems
from fedihub.hubs import two_way
from fedihub.i18n.active import gettext, ngettext
from fedihub.mail.outbox import mail_status
from fedihub.web.forms import read_form
from fedihub.web.manage_common import Page, date_text, done, errors_of, page, render
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view

# --- Followers, requests and following ------------------------------------------------------------


async def followers_page(request: Request) -> Response:
    p = await page(request, "admin")
    ctx = runtime_of(request).ctx
    domain = runtime_of(request).settings.domain
    async with ctx.reading() as session:
        rows = await follows.list_follows(session, p.handle, direction="followers")
    accepted = [{"actor": a, "view": actor_view(a, domain)} for a, state in rows if state == "accepted"]
    waiting = sum(1 for _, state in rows if state == "pending")
    return render(request, "manage/followers.html", p.context("followers", "Followers", followers=accepted,
                                                               requests=waiting))


async def remove_follower(request: Request) -> Response:
    p = await page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        await follows.remove_follower(ctx, session, p.coalition.id, form.text("actor"))
    return done(f"{p.base}/followers", "removed")


async def requests_page(request: Request) -> Response:
    p = await page(request, "admin")
    ctx = runtime_of(request).ctx
    domain = runtime_of(request).settings.domain
    async with ctx.reading() as session:
        pending = await follows.pending_requests(session, p.handle)
    items = [
        {"actor": f.follower, "view": actor_view(f.follower, domain), "since": date_text(f.created_at),
         "since_iso": f.created_at.isoformat()}
        for f in pending
    ]
    return render(request, "manage/requests.html", p.context("requests", "Follow requests", requests=items))



async def decide_request(request: Request) -> Response:
    p = await page(request, "admin")
    form = await read_form(request)
    if request.path_params["decision"] not in ("approve", "reject"):
        raise NotFound(gettext("approve or reject, nothing else"))
    approve = request.path_params["decision"] == "approve"
    ctx = runtime_of(request).ctx
    follower = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await two_way.approve_follower(ctx, session, p.handle, follower, approve=approve)
    return done(f"{p.base}/requests", "approved" if approve else "rejected")


async def following_page(request: Request) -> Response:
    # Editors see whom the coalition follows; admins decide it.
    p = await page(request, "editor" if request.method == "GET" else "admin")
    if request.method == "GET":
        return await _following(p, {}, {})
    values = (await read_form(request)).fields(multi=("movements",))
    target = str(values.get("target", "")).strip()
    try:
        if not target:
            raise InvalidInput(gettext("give the handle or address of the coalition to follow"), field="target")
        ctx = runtime_of(request).ctx
        remote = await resolve_target(ctx, target)
        async with ctx.sessions.begin() as session:
            await follows.follow(ctx, session, p.handle, remote)
    except FedihubError as exc:
        # Unknown handles, servers that do not answer, "already follows": all said next to the field.
        return await _following(p, values, errors_of(exc, ("target",), "target"), exc.status_code)
    return done(f"{p.base}/following", "followed")


async def _following(p: Page, values: Mapping[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    domain = runtime_of(p.request).settings.domain
    async with runtime_of(p.request).ctx.reading() as session:
        rows = await follows.list_follows(session, p.handle, direction="following")
    items = [{"actor": a, "view": actor_view(a, domain), "state": state} for a, state in rows]
    context = p.context("following", "Following", following=items, values=values, errors=errors)
    return render(p.request, "manage/following.html", context, status)


async def unfollow(request: Request) -> Response:
    p = await page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    remote = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await follows.unfollow(ctx, session, p.handle, remote)
    return done(f"{p.base}/following", "unfollowed")


# --- Delivery health ------------------------------------------------------------------------------


async def deliveries_page(request: Request) -> Response:
    p = await page(request, "admin")
    ctx = runtime_of(request).ctx
    now = ctx.clock()
    async with ctx.reading() as session:
        summary = await delivery_summary(session, now=now, actor_id=p.coalition.id)
        last_problem = await latest_problems(session, p.coalition.id)
        # Mail is the instance's, not the coalition's: shown only when this instance sends mail at all.
        mail = await mail_status(session) if runtime_of(request).settings.mail is not None else None
    servers = describe_servers(summary, last_problem, now)
    return render(
        request, "manage/deliveries.html", p.context("deliveries", "Delivery health", servers=servers, mail=mail)
    )


@dataclass(frozen=True)
class ServerHealth:
    domain: str
    state: str  # a few words: "Working", "Having trouble" …
    tone: str  # good | waiting | trouble | bad, for the row's colour
    details: list[str]


def explain_error(error: str | None) -> str | None:
    """A delivery error (``HTTP 503``, ``ConnectError: …``) in words an organizer understands.

    The stored error stays as the worker wrote it (English, for logs); it is put in words here, in the
    reader's language, each time the page is shown.
    """
    if not error:
        return None
    if error.startswith("HTTP "):
        code = int(error[5:8]) if error[5:8].isdigit() else 0
        if code in (401, 403):
            words = gettext("the server refused our messages (it may block this server)")
        elif code in (404, 410):
            words = gettext("the account or inbox no longer exists there")
        elif code == 408:
            words = gettext("the server did not answer in time")
        elif code == 429:
            words = gettext("the server asked us to slow down")
        elif code >= 500:
            words = gettext("the server had a problem on its side")
        else:
            words = gettext("the server refused the message")
        return gettext("%(words)s (code %(code)d)", words=words, code=code)
    lowered = error.lower()
    if "timeout" in lowered:
        return gettext("the server did not answer in time")
    if "forbiddenaddress" in lowered:
        return gettext("its address points into a private network, where we never send anything")
    if "ssl" in lowered or "certificate" in lowered:
        return gettext("the server's security certificate is not valid")
    if "connect" in lowered or "unavailable" in lowered or "resolve" in lowered:
        return gettext("the server could not be reached")
    return gettext("the server did not answer properly")


def describe_servers(
    summary: Iterable[DomainDeliveries], last_problem: Mapping[str, str | None], now: datetime
) -> list[ServerHealth]:
    """One line of plain words per server: e.g. "3 waiting, being retried; last problem: …"."""
    servers = []
    for d in summary:
        details = []
        waiting = d.pending - d.failing
        if d.paused_until is not None:
            state, tone = gettext("Paused"), "trouble"
            details.append(gettext(
                "We stopped sending until %(date)s because it kept failing. Nothing is lost: we try again then.",
                date=date_text(d.paused_until),
            ))
        elif d.failing:
            state, tone = gettext("Having trouble"), "trouble"
        elif waiting:
            state, tone = gettext("Sending"), "waiting"
        elif d.dead:
            state, tone = gettext("Some messages were not delivered"), "bad"
        else:
            state, tone = gettext("Working"), "good"
        if d.failing:
            details.append(ngettext("%(num)d message waiting, being retried.",
                                    "%(num)d messages waiting, being retried.", d.failing))
        if waiting:
            details.append(ngettext("%(num)d message waiting to be sent.", "%(num)d messages waiting to be sent.",
                                    waiting))
        if d.dead:
            details.append(ngettext(
                "%(num)d message given up on: the server refused it for good, "
                "or could not be reached for about three days.",
                "%(num)d messages given up on: the server refused them for good, "
                "or could not be reached for about three days.",
                d.dead,
            ))
        details.append(ngettext("%(num)d message delivered.", "%(num)d messages delivered.", d.delivered)
                       if d.delivered else gettext("Nothing delivered yet."))
        problem = explain_error(last_problem.get(d.domain) or (d.last_error if tone != "good" else None))
        if problem and tone != "good":
            details.append(gettext("Last problem: %(problem)s.", problem=problem))
        servers.append(ServerHealth(domain=d.domain, state=state, tone=tone, details=details))
    # Problems first, then the busiest.
    order = {"bad": 0, "trouble": 1, "waiting": 2, "good": 3}
    return sorted(servers, key=lambda s: (order[s.tone], s.domain))


