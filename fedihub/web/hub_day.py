"""The public hub page as the day of action: the calls a hub carries with their local actions grouped
under them, the coalitions pledged per region, and the member tree below the roster's member hubs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from fedihub.federation.actors import Actor
from fedihub.hubs.member_tree import member_trees
from fedihub.hubs.service import RosterPage
from fedihub.pledges.day_of_action import CarriedCall, day_of_action
from fedihub.web.day_map import day_markers, draw_day_map
from fedihub.web.pledge_pages import action_view, call_page_path
from fedihub.web.state import runtime_of
from fedihub.web.views import call_view

# Local actions listed under one call on the hub page; the call's own page lists them all.
ACTIONS_SHOWN = 50


def _entry(carried: CarriedCall, domain: str, base_url: str) -> dict[str, Any]:
    actions = [action_view(item) for item in carried.rollup.actions]
    return {
        "call": call_view(carried.call, domain), "page": call_page_path(carried.call.uri, base_url),
        "rollup": carried.rollup, "over": carried.over, "actions": actions[:ACTIONS_SHOWN],
        "more_actions": max(len(actions) - ACTIONS_SHOWN, 0),
    }


async def hub_day_context(request: Request, hub: Actor, roster: RosterPage | None) -> dict[str, Any]:
    """What coalition.html shows of a hub beyond its profile: ``day`` and ``member_trees``."""
    runtime = runtime_of(request)
    domain, base_url = runtime.settings.domain, runtime.ctx.base_url
    async with runtime.ctx.reading() as session:
        day = await day_of_action(session, hub.id, now=runtime.ctx.clock())
        trees = await member_trees(session, hub.uri, roster.entries) if roster is not None else {}
    shown = day.upcoming or day.past
    markers = day_markers((c.call, c.rollup, call_page_path(c.call.uri, base_url)) for c in shown)
    return {
        "day_map": await draw_day_map(markers, list_anchor="#carried-heading"),
        "day": {
            "upcoming": [_entry(entry, domain, base_url) for entry in day.upcoming],
            "past": [_entry(entry, domain, base_url) for entry in day.past],
            "by_region": day.by_region, "pledged": day.pledged, "regions_of_upcoming": bool(day.upcoming),
        },
        "member_trees": trees,
    }
