"""Public HTML pages: the instance home, coalition pages, call and post pages, remote follow, .ics."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub import __version__
from fedihub.coalitions import Actor, StoredObject, ics
from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.calls import past_calls, upcoming_calls
from fedihub.coalitions.queries import local_coalitions, organizer_updates, recent_posts
from fedihub.errors import FedihubError, Gone, InvalidInput, NotFound
from fedihub.federation.actors import find_local_actor
from fedihub.federation.collections import count_followers
from fedihub.federation.objects import find_object
from fedihub.hubs.service import roster_page
from fedihub.hubs.settings import hub_region_of, hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.html import sanitize_html
from fedihub.protocol.urls import http_url
from fedihub.protocol.webfinger import fetch_subscribe_template, parse_handle
from fedihub.web.conversation_pages import replies_section
from fedihub.web.day_map import day_markers, draw_day_map
from fedihub.web.forms import read_public_form
from fedihub.web.hub_day import hub_day_context
from fedihub.web.images import call_banner, local_banner
from fedihub.web.pledge_pages import call_page_path, pledge_section
from fedihub.web.security import REMOTE_FOLLOW_FORM_ACTION, content_security_policy
from fedihub.web.state import runtime_of
from fedihub.web.views import (
    actor_view,
    call_view,
    excerpt,
    post_view,
    region_text,
)

log = logging.getLogger(__name__)

RECENT = 20
UPCOMING = 30
PAST = 10
HOME_POSTS = 5
LOOKUP_SECONDS = 8.0


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    # Revalidated at every view (no-cache): a 304 saves the transfer, never shows a stale roll-up.
    # A page rendered for a session (a signed-in organizer, a form's CSRF token) is the browser's alone.
    shared = not request.scope.get("session")
    response.headers["Cache-Control"] = f"{'public' if shared else 'private'}, no-cache"
    return response


def _local_domain(request: Request) -> str:
    return runtime_of(request).settings.domain


async def home(request: Request) -> Response:
    runtime = runtime_of(request)
    domain = _local_domain(request)
    async with runtime.ctx.reading() as session:
        coalitions = await local_coalitions(session)
        calls = await upcoming_calls(session, now=runtime.ctx.clock(), limit=UPCOMING)
        posts = await recent_posts(session, limit=HOME_POSTS)
    return render(request, "home.html", {
        "coalitions": [_coalition_card(c, domain) for c in coalitions],
        "calls": [call_view(c, domain) for c in calls],
        "posts": [post_view(p, domain) for p in posts],
    })


def _coalition_card(coalition: Actor, domain: str) -> dict[str, Any]:
    profile = profile_of(coalition)
    return {
        "actor": actor_view(coalition, domain),
        "region": region_text(profile.region_city, profile.region_state, profile.region_country),
        "movements": profile.movements or [], "about": excerpt(coalition.summary, 160),
    }


def _form_action(request: Request) -> str:
    # A demo on plain http talks to servers on plain http too; production stays https-only.
    extra = " http:" if runtime_of(request).settings.base_url.startswith("http://") else ""
    return REMOTE_FOLLOW_FORM_ACTION + extra


def _roster_page_number(request: Request) -> int:
    """?page=N of a hub's roster (50 members a page); anything but a positive number is 404."""
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise NotFound(N_("no such page of members"))
    return int(raw)


async def coalition_page(
    request: Request, actor: Actor, *, follow_error: str | None = None, follow_account: str = "",
    follow_fallback: bool = False, status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    domain = _local_domain(request)
    now = runtime.ctx.clock()
    hub_scope = hub_scope_of(actor)
    profile = profile_of(actor)
    async with runtime.ctx.reading() as session:
        followers = await count_followers(session, actor.id)
        upcoming = await upcoming_calls(session, now=now, actor_id=actor.id, limit=UPCOMING)
        past = await past_calls(session, now=now, actor_id=actor.id, limit=PAST)
        posts = await recent_posts(session, actor_id=actor.id, limit=RECENT)
        roster = await roster_page(session, actor.id, _roster_page_number(request)) if hub_scope else None
    view = actor_view(actor, domain)
    hub_day = await hub_day_context(request, actor, roster) if hub_scope else {}
    response = render(request, "coalition.html", {
        **hub_day, "hub_scope": hub_scope, "hub_region": hub_region_of(actor), "roster": roster,
        "actor": actor, "coalition": view, "handle": view.handle, "followers": followers,
        "region": region_text(profile.region_city, profile.region_state, profile.region_country),
        "movements": [m for m in (profile.movements or []) if isinstance(m, str) and m.strip()],
        "website": http_url(profile.website), "description": excerpt(actor.summary, 200),
        "about_html": sanitize_html(actor.summary),
        "upcoming": [call_view(c, domain) for c in upcoming], "past": [call_view(c, domain) for c in past],
        "posts": [post_view(p, domain) for p in posts],
        "follow_error": follow_error, "follow_account": follow_account, "follow_fallback": follow_fallback,
        "banner": local_banner(actor.image_url, actor.image_alt) if actor.is_local else None,
    }, status_code=status_code)
    response.headers["Content-Security-Policy"] = content_security_policy(_form_action(request))
    return response


async def call_page_context(request: Request, row: StoredObject) -> dict[str, Any]:
    """Everything call.html shows of one call, ours or a remote one we store (same view model for both)."""
    domain = _local_domain(request)
    async with runtime_of(request).ctx.reading() as session:
        updates = await organizer_updates(session, row, limit=RECENT)
    pledges = await pledge_section(request, row)
    page = call_page_path(row.uri, runtime_of(request).ctx.base_url)
    placed = day_markers([(row, pledges["rollup"], page)])
    return {
        "call": call_view(row, domain), "updates": [post_view(u, domain, in_thread=True) for u in updates],
        "banner": await call_banner(request, row),
        # The call's own place is on the page already: a map is drawn once a local action has one.
        "day_map": await draw_day_map(placed, list_anchor="#day-actions")
        if any(m.kind == "action" for m in placed) else None,
        **pledges, **await replies_section(request, row),
    }


async def object_page(request: Request, row: StoredObject) -> Response:
    """The HTML page of a stored post or call, local or remote."""
    if row.type == "Event" and row.start_time is not None:
        return render(request, "call.html", await call_page_context(request, row))
    return render(request, "object.html", {"post": post_view(row, _local_domain(request)), "actor": row.author})


async def remote_follow(request: Request) -> Response:
    """Send a visitor to their own server's follow page for one of our coalitions (OStatus subscribe)."""
    runtime = runtime_of(request)
    form = await read_public_form(request, base_url=runtime.settings.base_url)
    username = form.text("coalition", strip=False)
    async with runtime.ctx.reading() as session:
        actor = await find_local_actor(session, username) if username else None
    if actor is None or actor.type != "Group" or actor.deleted_at is not None:
        raise NotFound(gettext("no coalition with that name here"))
    account = form.text("account")
    if not account:
        return await coalition_page(
            request, actor, follow_error=gettext("Type your handle, like alice@mastodon.social."), status_code=400
        )
    try:
        _, host = parse_handle(account)
    except InvalidInput:
        return await coalition_page(
            request, actor, follow_account=account, status_code=400,
            follow_error=gettext(
                "That does not look like a fediverse handle: it has a name and a server, like alice@mastodon.social."
            ),
        )
    target = f"{actor.username}@{actor.domain}"
    template = None
    try:
        # A person is waiting for this page: a slow server gets the fallback, not a long spinner.
        with anyio.move_on_after(LOOKUP_SECONDS):
            template = await fetch_subscribe_template(runtime.ctx.http, account, scheme=runtime.ctx.scheme)
    except FedihubError as exc:
        log.info("remote follow: no answer from %s: %s", host, exc)
    destination = http_url(template.replace("{uri}", quote(target, safe="@"))) if template else None
    if destination is None:
        return await coalition_page(
            request, actor, follow_account=account, follow_fallback=True,
            follow_error=gettext(
                "We could not find a follow page on %(host)s. Search for the handle below in your app instead.",
                host=host,
            ),
        )
    return RedirectResponse(destination, status_code=303)


async def event_calendar(request: Request) -> Response:
    """``/o/<uuid>.ics``: one of our calls as a calendar file."""
    runtime = runtime_of(request)
    uri = f"{runtime.ctx.base_url}/o/{request.path_params['object_id']}"
    async with runtime.ctx.reading() as session:
        row = await find_object(session, uri)
    if row is None or not row.is_local or row.type != "Event" or row.start_time is None:
        raise NotFound(N_("no call to action here"))
    if row.visibility not in ("public", "unlisted"):
        raise NotFound(N_("no call to action here"))
    if row.deleted_at is not None:
        raise Gone(N_("this call to action was deleted"))
    return calendar_file(row)


def calendar_file(row: StoredObject) -> Response:
    """One call as a downloadable .ics file."""
    body = ics.build_calendar([row], product=ics.product_id(__version__))
    return Response(body, media_type=ics.CONTENT_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{ics.filename_for(row)}"',
        "Cache-Control": "public, max-age=300",
    })


def routes() -> list[BaseRoute]:
    # Listed before the ActivityPub routes: /o/{id} would otherwise take /o/<uuid>.ics.
    return [
        Route("/o/{object_id:str}.ics", event_calendar, name="object_ics"),
        Route("/remote-follow", remote_follow, methods=["POST"], name="remote_follow"),
    ]
