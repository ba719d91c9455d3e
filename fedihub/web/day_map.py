"""The map of a day of action: calls and their local actions as map marks, drawn off the event loop."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import anyio.to_thread

from fedihub.directory.map_points import placeable
from fedihub.federation.objects import StoredObject
from fedihub.i18n.active import gettext
from fedihub.maps.draw import DrawnMap, Marker, draw_map
from fedihub.pledges.rollup import Rollup
from fedihub.protocol.urls import http_url

# Every local action of a national day can be on one map; past this the map would be a blot.
MAX_MARKS = 500


def day_markers(calls: Iterable[tuple[StoredObject, Rollup, str]]) -> list[Marker]:
    """The calls (with the path of their page here) and every vouched local action that gives a place.

    A local action links to its own event; without a link it is left off, as a mark must lead somewhere.
    """
    marks: list[Marker] = []
    for call, rollup, page in calls:
        if placeable(call.latitude, call.longitude):
            marks.append(Marker("call", call.name or gettext("Call to action"), page, float(call.latitude or 0),
                                float(call.longitude or 0), detail=call.location_name or ""))
        for item in rollup.actions:
            action = item.action
            href = http_url(action.url or action.uri) if action is not None else None
            if action is None or href is None or not placeable(action.latitude, action.longitude):
                continue
            coalition = item.coalition.name or item.coalition.handle or ""
            marks.append(Marker("action", action.name, href, float(action.latitude or 0), float(action.longitude or 0),
                                detail=", ".join(part for part in (coalition, action.place or "") if part)))
    return marks[:MAX_MARKS]


async def draw_day_map(markers: Sequence[Marker], *, list_anchor: str) -> DrawnMap | None:
    """The map around the marks, or None when none has a place. A group zooms on the full map page;
    one whose marks share a place links to ``list_anchor``, the page's list of them."""
    if not markers:
        return None
    # The first map of a process reads the boundary files: never on the event loop.
    return await anyio.to_thread.run_sync(functools.partial(
        draw_map, markers, zoom_link=lambda box: f"/map?bbox={box.query()}", list_anchor=list_anchor,
    ))
