"""The public directory of coalitions and hubs, its map, and its read-only JSON API (docs/API.md)."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.coalitions.movements import movement_label
from fedihub.directory import map_points
from fedihub.directory.query import (
    FOUND_LABELS,
    PAGE_SIZE,
    DirectoryEntry,
    DirectoryFilter,
    directory_page,
    known_regions,
    movement_counts,
    parse_filter,
)
from fedihub.errors import InvalidInput
from fedihub.hubs.scope_names import scope_plural
from fedihub.i18n.active import gettext
from fedihub.maps.atlas import region_box
from fedihub.maps.draw import Marker, draw_map
from fedihub.maps.projection import Box, parse_box
from fedihub.protocol.profile_reader import HUB_SCOPES
from fedihub.web.security import content_security_policy, map_image_sources
from fedihub.web.state import runtime_of
from fedihub.web.views import remote_call_path, when_of

CORS = {"Access-Control-Allow-Origin": "*"}
API_CACHE = "public, max-age=60"
FACETS_TTL = 60.0  # seconds


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)


def _filter_or_error(request: Request) -> tuple[DirectoryFilter, InvalidInput | None]:
    """A bad bookmark still shows the page: the faulty parameter is dropped and named."""
    params = dict(request.query_params)
    try:
        return parse_filter(params), None
    except InvalidInput as exc:
        params.pop(exc.field or "", None)
        try:
            return parse_filter(params), exc
        except InvalidInput:
            return DirectoryFilter(), exc


@dataclass(frozen=True)
class Facets:
    """The movement and region choices of the filter form, shared by every page for a minute.

    Counting them reads every listed actor (about 40 ms for 10,000 on SQLite); the list itself is
    always live, and a movement chosen in the URL is offered even before it is counted.
    """

    movements: list[tuple[str, int]]
    regions: list[str]
    expires: float


async def _facets(request: Request) -> Facets:
    cached: Facets | None = getattr(request.app.state, "directory_facets", None)
    if cached is not None and cached.expires > time.monotonic():
        return cached
    async with runtime_of(request).ctx.reading() as session:
        movements, regions = await movement_counts(session), await known_regions(session)
    facets = Facets(movements, regions, time.monotonic() + FACETS_TTL)
    request.app.state.directory_facets = facets
    return facets


def _link(params: dict[str, str], path: str) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _form_context(movements: list[tuple[str, int]], regions: list[str], chosen: DirectoryFilter) -> dict[str, Any]:
    options = [(key, movement_label(key), n) for key, n in movements]
    if chosen.movement and chosen.movement not in {key for key, _ in movements}:
        options.insert(0, (chosen.movement, movement_label(chosen.movement), 0))
    return {
        "filter": chosen, "movement_options": options, "regions": regions,
        "scope_options": [("coalition", gettext("Coalitions")), ("hub", gettext("Any hub"))]
        + [(scope, scope_plural(scope)) for scope in HUB_SCOPES],
        "found_options": [(key, gettext(label)) for key, label in FOUND_LABELS.items()],
    }


async def directory(request: Request) -> Response:
    """``/directory``: every coalition and hub this server knows, 50 a page, with GET filters."""
    chosen, error = _filter_or_error(request)
    async with runtime_of(request).ctx.reading() as session:
        page = await directory_page(session, chosen)
    facets = await _facets(request)
    return _render(request, "directory.html", {
        **_form_context(facets.movements, facets.regions, chosen), "page": page, "error": error,
        "previous_url": _link(chosen.params(page.page - 1), "/directory") if page.has_previous else None,
        "next_url": _link(chosen.params(page.page + 1), "/directory") if page.has_next else None,
        "first_url": _link(chosen.params(1), "/directory"),
        "map_url": _link({k: v for k, v in chosen.params(1).items() if k in ("movement", "region")}, "/map"),
    }, status_code=400 if error else 200)


def _map_item(point: map_points.MapPoint) -> dict[str, Any]:
    """A point with its link (calls: our page, or where we show a remote one) and its time."""
    if point.kind == "call":
        href: str | None = point.uri if point.is_local else remote_call_path(point.uri)
    else:
        href = point.url
    when = when_of(point.start_time, None, point.timezone) if point.start_time is not None else None
    return {"point": point, "href": href, "when": when}


def _markers(items: list[dict[str, Any]]) -> list[Marker]:
    return [
        Marker(kind=item["point"].kind, name=item["point"].name, href=item["href"], latitude=item["point"].latitude,
               longitude=item["point"].longitude, detail=item["point"].detail)
        for item in items if item["href"]
    ]


def _map_area(request: Request, chosen: DirectoryFilter) -> tuple[Box | None, InvalidInput | None]:
    """The area asked for: ``bbox`` (a group's zoom), else a known region's outline, else None (the points')."""
    text = request.query_params.get("bbox", "").strip()
    if text:
        box = parse_box(text)
        if box is not None:
            return box, None
        return None, InvalidInput(gettext("the map area (bbox) must be west,south,east,north in degrees"), field="bbox")
    return (region_box(chosen.region) if chosen.region else None), None


async def map_page(request: Request) -> Response:
    """``/map``: upcoming calls and coalitions with coordinates, over country and state outlines, and as a list."""
    runtime = runtime_of(request)
    chosen, error = _filter_or_error(request)
    chosen = DirectoryFilter(movement=chosen.movement, region=chosen.region)
    async with runtime.ctx.reading() as session:
        calls = await map_points.call_points(session, chosen, now=runtime.ctx.clock())
        coalitions = await map_points.coalition_points(session, chosen)
    facets = await _facets(request)
    call_items, coalition_items = [_map_item(p) for p in calls], [_map_item(p) for p in coalitions]
    filters = {k: v for k, v in chosen.params(1).items() if k in ("movement", "region")}
    # The boundary files are read and the outlines projected in a thread: the first map costs about a second.
    box, box_error = await anyio.to_thread.run_sync(_map_area, request, chosen)
    # Calls are drawn last, on top: a call at its coalition's own address stays clickable.
    drawn = await anyio.to_thread.run_sync(functools.partial(
        draw_map, _markers(coalition_items + call_items), box=box,
        zoom_link=lambda area: _link({**filters, "bbox": area.query()}, "/map"),
    ))
    tiles_url = request.app.state.settings.map_tiles_url
    response = _render(request, "map.html", {
        **_form_context(facets.movements, facets.regions, chosen), "error": error or box_error, "drawn": drawn,
        "zoomed": bool(request.query_params.get("bbox")) and box is not None, "calls": call_items,
        "coalitions": coalition_items, "whole_map_url": _link(filters, "/map"),
        "tiles": tiles_url or None,
        "tiles_attribution": request.app.state.settings.map_tiles_attribution,
        "directory_url": _link(chosen.params(1), "/directory"),
    }, status_code=400 if error or box_error else 200)
    response.headers["Content-Security-Policy"] = content_security_policy(img_src=map_image_sources(tiles_url))
    return response


def entry_json(entry: DirectoryEntry) -> dict[str, Any]:
    """One directory entry as docs/API.md describes it: every field always present."""
    return {
        "id": entry.uri, "name": entry.name, "handle": entry.handle, "kind": entry.kind,
        "hub_scope": entry.hub_scope,
        "region": {"city": entry.region_city, "state": entry.region_state, "country": entry.region_country,
                   "hub_region": entry.hub_region, "text": entry.region},
        "movements": entry.movements, "summary": entry.summary, "url": entry.url, "local": entry.is_local,
        "found": entry.found,
        "discovered_at": entry.discovered_at.isoformat().replace("+00:00", "Z") if entry.discovered_at else None,
        "latitude": entry.latitude, "longitude": entry.longitude,
    }


async def api_directory(request: Request) -> Response:
    """``GET /api/v1/directory``: the directory as JSON, same filters and pages as the page."""
    runtime = runtime_of(request)
    try:
        chosen = parse_filter(request.query_params)
    except InvalidInput as exc:
        return JSONResponse({"error": exc.public_message, "field": exc.field}, status_code=400, headers=CORS)
    async with runtime.ctx.reading() as session:
        page = await directory_page(session, chosen)
    next_url = f"{runtime.ctx.base_url}{_link(chosen.params(page.page + 1), '/api/v1/directory')}"
    return JSONResponse({
        "items": [entry_json(entry) for entry in page.entries], "total": page.total, "page": page.page,
        "per_page": PAGE_SIZE, "next": next_url if page.has_next else None,
    }, headers={**CORS, "Cache-Control": API_CACHE})


def routes() -> list[BaseRoute]:
    return [
        Route("/directory", directory, name="directory"),
        Route("/map", map_page, name="map"),
        Route("/api/v1/directory", api_directory, name="api_directory"),
    ]
