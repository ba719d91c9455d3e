"""Calendar and Atom feeds and the read-only calls API (/calls.ics, /g/<name>/calls.ics and
feed.atom, /api/v1/calls): public, cacheable, and readable from any origin."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub import __version__
from fedihub.coalitions import Actor, StoredObject, ics
from fedihub.errors import FedihubError, Gone, NotFound
from fedihub.federation.actors import find_local_actor
from fedihub.feeds import atom, calendars
from fedihub.feeds.api import call_json, parse_paging
from fedihub.feeds.queries import filter_conditions, page_of_calls, parse_filters, public_only
from fedihub.hubs.scope_names import scope_name
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.pledges.queries import rollup_of
from fedihub.protocol.urls import http_url
from fedihub.web.site_info import site_info_of
from fedihub.web.state import runtime_of
from fedihub.web.views import remote_call_path

FEED_MAX_AGE = 300
API_MAX_AGE = 60
JSON_TYPE = "application/json; charset=utf-8"
CORS = {"Access-Control-Allow-Origin": "*"}


def cached(request: Request, body: bytes, media_type: str, max_age: int = FEED_MAX_AGE) -> Response:
    """``body``, cacheable by anyone for ``max_age`` seconds; its ETag and 304s come from
    web/conditional.py like every cacheable answer's."""
    headers = {"Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Encoding", **CORS}
    return Response(body, media_type=media_type, headers=headers)


async def _feed_owner(request: Request) -> Actor:
    """The local coalition or hub named in the path: 404 if unknown, 410 once deleted."""
    async with runtime_of(request).ctx.reading() as session:
        actor = await find_local_actor(session, request.path_params["username"])
    if actor is None or actor.type != "Group":
        raise NotFound(N_("no coalition or hub with that name here"))
    if actor.deleted_at is not None:
        raise Gone(N_("this coalition was deleted"))
    return actor


def page_of(request: Request, row: StoredObject) -> str:
    """Where a person reads the object: our page for ours and for remote calls, else its origin's."""
    base = runtime_of(request).ctx.base_url
    if row.is_local:
        return row.uri
    if row.type == "Event":
        return base + remote_call_path(row.uri)
    return http_url(row.url) or row.uri


# --- Calendars -------------------------------------------------------------------------------------


async def instance_calendar(request: Request) -> Response:
    """/calls.ics?movement=…&region=…: the public calls this server shows."""
    runtime = runtime_of(request)
    filters = parse_filters(request.query_params)
    async with runtime.ctx.reading() as session:
        body = await calendars.instance_calendar(
            session, filters, now=runtime.ctx.clock(), version=__version__,
            instance_name=site_info_of(request).name, local_domain=runtime.settings.domain,
        )
    return cached(request, body.encode(), ics.CONTENT_TYPE)


async def actor_calendar(request: Request) -> Response:
    """/g/<name>/calls.ics: a coalition's calls, or the calls a hub carries."""
    runtime = runtime_of(request)
    actor = await _feed_owner(request)
    async with runtime.ctx.reading() as session:
        body = await calendars.actor_calendar(session, actor, now=runtime.ctx.clock(), version=__version__)
    return cached(request, body.encode(), ics.CONTENT_TYPE)


# --- Atom ----------------------------------------------------------------------------------------------


async def actor_feed(request: Request) -> Response:
    """/g/<name>/feed.atom: the newest calls and announcements (a hub's: what it carries too)."""
    runtime = runtime_of(request)
    actor = await _feed_owner(request)
    async with runtime.ctx.reading() as session:
        rows = await atom.actor_entries(session, actor)
    name = calendars.actor_title(actor)
    hub_scope = hub_scope_of(actor)
    icon = actor.icon_url or ""
    info = atom.FeedInfo(
        feed_url=f"{actor.uri}/feed.atom", page_url=actor.uri, title=name,
        subtitle=(gettext("Calls to action and news carried by %(name)s (%(kind)s)", name=name,
                          kind=scope_name(hub_scope).lower()) if hub_scope
                  else gettext("Calls to action and announcements of %(name)s", name=name)),
        author_name=name, author_uri=actor.uri, generator_version=__version__,
        fallback_updated=actor.updated_at or actor.created_at,
        # Avatars are served from our own origin under a path (coalitions/avatars.py).
        icon=runtime.ctx.base_url + icon if icon.startswith("/") else http_url(icon),
    )
    body = atom.build_feed(info, rows, lambda row: page_of(request, row))
    return cached(request, body, atom.CONTENT_TYPE)


# --- The calls API ---------------------------------------------------------------------------------------


def _json(data: Any, status_code: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status_code, media_type=JSON_TYPE, headers=CORS)


def _page_link(request: Request, page: int) -> str:
    params = dict(request.query_params)
    params["page"] = str(page)
    return f"{runtime_of(request).ctx.base_url}{request.url.path}?{urlencode(params)}"


async def api_calls(request: Request) -> Response:
    """GET /api/v1/calls: calls this server shows, filtered and paged (docs/API.md "Calls")."""
    runtime = runtime_of(request)
    try:
        filters = parse_filters(request.query_params)
        paging = parse_paging(request.query_params)
        async with runtime.ctx.reading() as session:
            conditions = [public_only(), *await filter_conditions(session, filters, runtime.settings.domain)]
            rows, total = await page_of_calls(
                session, conditions, now=runtime.ctx.clock(), upcoming=paging.upcoming, offset=paging.offset,
                limit=paging.per_page,
            )
            items = [
                call_json(row, page=page_of(request, row), rollup=await rollup_of(session, row),
                          local_domain=runtime.settings.domain)
                for row in rows
            ]
    except FedihubError as exc:
        # Errors too must be readable cross-origin, or a web app sees only "network error".
        return _json({"error": exc.public_message, "field": exc.field}, exc.status_code)
    has_next = paging.offset + len(rows) < total
    body = {
        "items": items, "total": total, "page": paging.page, "per_page": paging.per_page,
        "next": _page_link(request, paging.page + 1) if has_next else None,
        "prev": _page_link(request, paging.page - 1) if paging.page > 1 else None,
    }
    return cached(request, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), JSON_TYPE,
                  max_age=API_MAX_AGE)


async def api_preflight(request: Request) -> Response:
    return Response(status_code=204, headers={
        **CORS, "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Allow-Headers": "If-None-Match",
        "Access-Control-Max-Age": "86400",
    })


def routes() -> list[BaseRoute]:
    return [
        Route("/calls.ics", instance_calendar, name="instance_calendar"),
        Route("/g/{username:str}/calls.ics", actor_calendar, name="actor_calendar"),
        Route("/g/{username:str}/feed.atom", actor_feed, name="actor_feed"),
        Route("/api/v1/calls", api_calls, methods=["GET"], name="api_calls"),
        Route("/api/v1/calls", api_preflight, methods=["OPTIONS"], name="api_calls_preflight"),
    ]
