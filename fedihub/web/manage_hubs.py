"""Organizer pages of hubs: members (and pausing them), join requests, the review list, boost rules,
joining and leaving hubs, creating hubs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts import service as accounts
from fedihub.coalitions import Actor
from fedihub.coalitions.movement_list import active_movements
from fedihub.coalitions.movements import movement_form_values, parse_movements
from fedihub.errors import FedihubError, FieldErrors, InvalidInput, NotFound
from fedihub.federation.actors import local_handle, resolve_target
from fedihub.hubs import membership, two_way
from fedihub.hubs import service as hubs
from fedihub.hubs.review import HeldItem
from fedihub.hubs.rules import SCOPES
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.urls import has_http_scheme, http_url
from fedihub.web import account_pages
from fedihub.web.auth import require_instance_admin
from fedihub.web.forms import read_form
from fedihub.web.manage_common import Page, date_text, done, errors_of, page, render
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view, excerpt

MAX_ADD = 50  # targets per "add members" submission: each may cost a WebFinger lookup and a fetch

# What just happened on these pages, shown once after a redirect (?done=…); fixed texts only.
# Marked for the catalogue (N_); shown through gettext.
NOTICES = {
    "member-removed": N_("Removed from the hub. Its calls are no longer boosted; its server has been told."),
    "request-approved": N_("Request approved: the hub now follows them and boosts their calls."),
    "request-refused": N_("Request refused. They have been told."),
    "rules-saved": N_("The boost rules are saved. They apply to everything members publish from now on."),
    "rules-unchanged": N_("Nothing had changed."),
    "join-asked": N_("Request sent. The hub's admins decide; it shows below until they do."),
    "left": N_("Done: the hub no longer follows you or boosts your calls, and it has been told."),
    "followed-back": N_(
        "Following back: the calls this hub carries reach your dashboard once it accepts (in seconds)."
    ),
    "member-paused": N_("Paused: their new posts wait in the review list instead of being boosted."),
    "member-already-paused": N_("They were paused already."),
    "member-resumed": N_("Resumed: their new posts are boosted again. What waits in the review list stays there."),
    "member-not-paused": N_("They were not paused."),
    "held-boosted": N_("Boosted: the hub's followers are getting it now."),
    "held-discarded": N_("Discarded: it will not be boosted."),
    "held-retracted": N_("Its author deleted or cancelled it meanwhile, so it was not boosted; it left the list."),
}
STATE_TEXT = {
    "pending": N_("Waiting for the hub's admins"), "approved": N_("Accepted"), "refused": N_("Refused"),
    "withdrawn": N_("Ended (left or removed)"),
}


def _state_text(state: str) -> str:
    return gettext(STATE_TEXT[state]) if state in STATE_TEXT else state


def _context(p: Page, active: str, title: str, **extra: Any) -> dict[str, Any]:
    context = p.context(active, title, **extra)
    context["notice"] = gettext(NOTICES.get(p.request.query_params.get("done", ""), "")) or context["notice"]
    return context


async def _hub_page(request: Request, minimum: str) -> Page:
    p = await page(request, minimum)
    if hub_scope_of(p.coalition) is None:
        raise NotFound(gettext("%(name)s is a coalition, not a hub", name=p.coalition.name or p.handle))
    return p


# --- A hub's members and join requests ------------------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    target: str
    ok: bool
    text: str


def split_targets(text: str) -> list[str]:
    """Handles or URLs, one per line (commas and spaces work too), each once, in order.

    Handles are compared as WebFinger does: without the leading "@" and case-insensitively.
    """
    seen: list[str] = []
    for piece in re.split(r"[\s,;]+", text or ""):
        if not has_http_scheme(piece):
            piece = piece.lstrip("@").lower()
        if piece and piece not in seen:
            seen.append(piece)
    return seen


async def roster(request: Request) -> Response:
    # Editors see who is in the hub; admins decide it.
    p = await _hub_page(request, "editor" if request.method == "GET" else "admin")
    if request.method == "GET":
        return await _roster(p, "", [])
    values = (await read_form(request)).fields(multi=("movements",))
    targets = split_targets(str(values.get("targets", "")))
    if not targets:
        return await _roster(p, "", [], {"targets": gettext("give at least one handle or address")}, 400)
    if len(targets) > MAX_ADD:
        return await _roster(p, str(values.get("targets", "")), [],
                             {"targets": gettext("at most %(max)d at a time; add the rest afterwards", max=MAX_ADD)},
                             400)
    ctx = runtime_of(request).ctx
    results = []
    for target in targets:
        try:
            member = await resolve_target(ctx, target)
            async with ctx.sessions.begin() as session:
                row = await hubs.add_member(ctx, session, p.handle, member)
        except FedihubError as exc:
            # Unknown handles, servers that do not answer, "already a member": said next to that line.
            results.append(AddResult(target, False, exc.public_message))
            continue
        said = (gettext("asked to follow %(handle)s; they are a member now", handle=row.target.handle)
                if row.state == "accepted"
                else gettext("asked to follow %(handle)s; boosting starts once they accept", handle=row.target.handle))
        results.append(AddResult(target, True, said))
    failed = [r.target for r in results if not r.ok]
    errors = {"targets": gettext("these could not be added; they are still in the box")} if failed else {}
    return await _roster(p, "\n".join(failed), results, errors, 400 if failed else 200)


async def _roster(
    p: Page, targets: str, results: list[AddResult], errors: Mapping[str, str] | None = None, status: int = 200
) -> Response:
    ctx = runtime_of(p.request).ctx
    domain = runtime_of(p.request).settings.domain
    number = _page_number(p.request)
    async with ctx.reading() as session:
        members = await hubs.roster_page(session, p.coalition.id, number)
        waiting = await hubs.pending_members(session, p.coalition.id)
        requests = await membership.join_requests(session, p.coalition.id)
        paused = await hubs.paused_member_ids(session, p.coalition.id)
    context = _context(
        p, "roster", "Hub members",
        members=members, member_views=[(e, actor_view(e.actor, domain)) for e in members.entries if e.actor],
        paused={e.uri for e in members.entries if e.actor is not None and e.actor.id in paused},
        waiting=[(a, actor_view(a, domain)) for a in waiting],
        requests=[{"row": r, "view": actor_view(r.member, domain), "since": date_text(r.created_at),
                   "since_iso": r.created_at.isoformat()} for r in requests],
        values={"targets": targets}, errors=dict(errors or {}), results=results, max_add=MAX_ADD,
    )
    return render(p.request, "manage/hub_members.html", context, status)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise NotFound(gettext("no such page of members"))
    return int(raw)


async def remove_member(request: Request) -> Response:
    p = await _hub_page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    member = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await hubs.remove_member(ctx, session, p.handle, member)
    return done(f"{p.base}/roster", "member-removed")


async def decide_request(request: Request) -> Response:
    p = await _hub_page(request, "admin")
    form = await read_form(request)
    decision = request.path_params["decision"]
    if decision not in ("approve", "refuse"):
        raise NotFound(gettext("approve or refuse, nothing else"))
    ctx = runtime_of(request).ctx
    member = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await membership.decide_join(ctx, session, p.handle, member, approve=decision == "approve")
    return done(f"{p.base}/roster", "request-approved" if decision == "approve" else "request-refused")


async def pause_member(request: Request) -> Response:
    """Pause or resume boosting one member (the path says which)."""
    p = await _hub_page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    member = await resolve_target(ctx, form.text("actor"))
    resume = request.url.path.endswith("/resume")
    async with ctx.sessions.begin() as session:
        if resume:
            changed = await hubs.resume_member(ctx, session, p.handle, member)
        else:
            changed = await hubs.pause_member(ctx, session, p.handle, member)
    what = ("member-resumed" if changed else "member-not-paused") if resume else (
        "member-paused" if changed else "member-already-paused")
    return done(f"{p.base}/roster", what)


# --- A hub's review list --------------------------------------------------------------------------


def held_views(items: list[HeldItem], domain: str) -> list[dict[str, Any]]:
    """A review list as manage/_held_posts.html shows it (a hub's, or a coalition's held mentions)."""
    held = []
    for item in items:
        row = item.object
        held.append({
            "id": item.id, "member": actor_view(item.member, domain),
            "author": actor_view(row.author, domain) if row is not None else None,
            "title": ((row.name or "").strip() or None) if row is not None else None,
            "excerpt": excerpt(row.content) if row is not None else "",
            "is_call": row is not None and row.type == "Event",
            "url": (row.uri if row.is_local else (http_url(row.url) or http_url(row.uri))) if row is not None
            else http_url(item.object_uri),
            "reason": item.reason_text, "since": date_text(item.held_at), "since_iso": item.held_at.isoformat(),
        })
    return held


async def review(request: Request) -> Response:
    p = await _hub_page(request, "admin")
    ctx = runtime_of(request).ctx
    domain = runtime_of(request).settings.domain
    async with ctx.reading() as session:
        items = await hubs.held_posts(session, p.coalition.id)
    settings = runtime_of(request).settings
    context = _context(p, "review", "Review list", held=held_views(items, domain),
                       rate=settings.hub_boosts_per_member_hour)
    return render(request, "manage/hub_review.html", context)


async def held_decision(request: Request) -> tuple[bool, int]:
    """Boost (True) or discard, and which waiting post: what a review list's forms post."""
    raw = (await read_form(request)).text("held")  # the form first: it checks the CSRF token
    decision = request.path_params["decision"]
    if decision not in ("boost", "discard"):
        raise NotFound(gettext("boost or discard, nothing else"))
    if not raw.isdigit():
        raise NotFound(gettext("that post is not waiting in this review list"))
    return decision == "boost", int(raw)


async def decide_held(request: Request) -> Response:
    p = await _hub_page(request, "admin")
    boost, held = await held_decision(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        outcome = await hubs.decide_held(ctx, session, p.handle, held, boost=boost)
    return done(f"{p.base}/review", f"held-{outcome}")


# --- A hub's boost rules --------------------------------------------------------------------------

RULE_FIELDS = ("scope", "region", "movements", "tags", "regions", "calls_only")


def _rule_values(hub: Actor) -> dict[str, Any]:
    settings = hub.hub_settings
    assert settings is not None  # _hub_page lets only hubs through
    return {
        "scope": settings.scope, "region": settings.region or "", "regions": ", ".join(settings.regions or []),
        **movement_form_values(settings.movements or []),
        "calls_only": "on" if settings.calls_only else "",
    }


async def rules(request: Request) -> Response:
    p = await _hub_page(request, "admin")
    if request.method == "GET":
        return _rules_form(p, _rule_values(p.coalition), {})
    values = (await read_form(request)).fields(multi=("movements",))
    chosen = values.get("movements", [])
    try:
        errors = FieldErrors()
        movements = errors.check(
            parse_movements, chosen if isinstance(chosen, list) else [chosen], str(values.get("tags", ""))
        )
        errors.check(hubs.check_rules, str(values.get("scope", "")), str(values.get("region", "")),
                     split_regions(str(values.get("regions", ""))))
        errors.raise_if_any()
        ctx = runtime_of(request).ctx
        async with ctx.sessions.begin() as session:
            changed = await hubs.update_rules(
                ctx, session, p.handle, scope=str(values.get("scope", "")),
                region=str(values.get("region", "")), movements=movements or [],
                regions=split_regions(str(values.get("regions", ""))), calls_only=bool(values.get("calls_only")),
            )
    except InvalidInput as exc:
        return _rules_form(p, values, errors_of(exc, RULE_FIELDS), exc.status_code)
    return done(f"{p.base}/rules", "rules-saved" if changed else "rules-unchanged")


def split_regions(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def _rules_form(p: Page, values: Mapping[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    context = _context(p, "rules", "Boost rules", values=values, errors=errors, scopes=SCOPES,
                       suggested=active_movements().choices)
    return render(p.request, "manage/hub_rules.html", context, status)


# --- The hubs a coalition (or a hub) belongs to ---------------------------------------------------


async def hubs_page(request: Request) -> Response:
    p = await page(request, "editor" if request.method == "GET" else "admin")
    if request.method == "GET":
        return await _hubs(p, {}, {})
    values = (await read_form(request)).fields(multi=("movements",))
    target = str(values.get("hub", "")).strip()
    try:
        if not target:
            raise InvalidInput(gettext("give the handle or address of the hub"), field="hub")
        message = membership.clean_message(str(values.get("message", "")))
        ctx = runtime_of(request).ctx
        hub = await resolve_target(ctx, target)
        async with ctx.sessions.begin() as session:
            await membership.ask_to_join(ctx, session, p.handle, hub, message)
    except FedihubError as exc:
        return await _hubs(p, values, errors_of(exc, ("hub", "message"), "hub"), exc.status_code)
    return done(f"{p.base}/hubs", "join-asked")


async def _hubs(p: Page, values: Mapping[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    ctx = runtime_of(p.request).ctx
    domain = runtime_of(p.request).settings.domain
    async with ctx.reading() as session:
        followed_by = await membership.hubs_of(session, p.coalition.id)
        sent = await membership.requests_sent(session, p.coalition.id)
        one_way = await two_way.hubs_not_followed_back(session, p.coalition.id)
    member_of = {item.hub.id for item in followed_by if item.state == "accepted"}
    context = _context(
        p, "hubs", "Hubs",
        memberships=[(item.hub, actor_view(item.hub, domain)) for item in followed_by if item.state == "accepted"],
        one_way=[(hub, actor_view(hub, domain)) for hub in one_way],
        waiting=[(item.hub, actor_view(item.hub, domain)) for item in followed_by if item.state == "pending"],
        sent=[{"row": r, "view": actor_view(r.hub, domain), "state": _state_text(r.state),
               "since": date_text(r.created_at), "since_iso": r.created_at.isoformat(),
               "open": r.state == "pending" or (r.state == "approved" and r.hub_id not in member_of)}
              for r in sent],
        values=values, errors=errors,
    )
    return render(p.request, "manage/hub_membership.html", context, status)


async def leave(request: Request) -> Response:
    p = await page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    hub = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await membership.leave_hub(ctx, session, p.handle, hub)
    return done(f"{p.base}/hubs", "left")


async def follow_back(request: Request) -> Response:
    """Follow back a hub that added this coalition: its calls reach the dashboard, and the follow is
    the organizers' consent to the membership (hubs/two_way.py)."""
    p = await page(request, "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    hub = await resolve_target(ctx, form.text("actor"))
    async with ctx.sessions.begin() as session:
        await two_way.follow_back(ctx, session, p.handle, hub)
    return done(f"{p.base}/hubs", "followed-back")


# --- Creating hubs (instance admins) --------------------------------------------------------------


async def admin_create_hub(request: Request) -> Response:
    account = await require_instance_admin(request)
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    values = {"handle": form.text("handle").lower(), "name": form.text("name"), "scope": form.text("scope"),
              "region": form.text("region")}
    try:
        errors = FieldErrors()
        if errors.check(form.required, "handle", gettext("give the hub a handle")):
            errors.check(local_handle, values["handle"], ctx.host)
        errors.check(form.required, "name", gettext("give the hub a display name"))
        errors.raise_if_any()
        # The hub and its first owner together: a hub nobody can manage never exists.
        async with ctx.sessions.begin() as session:
            actor = await hubs.create_hub(ctx, session, values["handle"], name=values["name"], scope=values["scope"],
                                          region=values["region"] or None)
            await accounts.add_member(session, account.id, actor.id, "owner", now=ctx.clock())
    except FedihubError as exc:
        if exc.status_code >= 500:
            raise
        exc.field = exc.field or "handle"
        return await account_pages.admin_page(
            request, exc.status_code, forms="hub", values=values, errors=account_pages.error_for(exc)
        )
    return RedirectResponse(f"/manage/{actor.username}/roster", status_code=303)


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    post = ["POST"]
    base = "/manage/{handle:str}"
    return [
        Route("/admin/hubs", admin_create_hub, methods=post, name="admin_create_hub"),
        Route(f"{base}/roster", roster, methods=both, name="manage_hub_roster"),
        Route(f"{base}/roster/remove", remove_member, methods=post, name="manage_hub_remove"),
        Route(base + "/roster/requests/{decision:str}", decide_request, methods=post, name="manage_hub_decide"),
        Route(f"{base}/roster/pause", pause_member, methods=post, name="manage_hub_pause"),
        Route(f"{base}/roster/resume", pause_member, methods=post, name="manage_hub_resume"),
        Route(f"{base}/review", review, methods=["GET"], name="manage_hub_review"),
        Route(base + "/review/{decision:str}", decide_held, methods=post, name="manage_hub_review_decide"),
        Route(f"{base}/rules", rules, methods=both, name="manage_hub_rules"),
        Route(f"{base}/hubs", hubs_page, methods=both, name="manage_hubs"),
        Route(f"{base}/hubs/leave", leave, methods=post, name="manage_hub_leave"),
        Route(f"{base}/hubs/follow-back", follow_back, methods=post, name="manage_hub_follow_back"),
    ]
