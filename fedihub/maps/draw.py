"""A map of points to draw as SVG: outlines, single points and clustered groups, each a link. Reusable by any page."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fedihub.maps.clusters import cluster
from fedihub.maps.outlines import Outline, outlines
from fedihub.maps.projection import Box, bounds, fit

WORLD = Box(-180.0, -58.0, 180.0, 80.0)
# A zoom to points shows at least this many degrees (a town and its surroundings), a cluster's zoom less.
MIN_SPAN, MIN_ZOOM_SPAN = 1.5, 0.05
# Members of a group closer together than this (degrees) share one address: no zoom would part them.
SAME_PLACE = 0.0005
# Pixels from a mark's centre to the edge of what the template draws: a group's 15 px circle, its 2 px
# stroke, and the wider stroke of a focused or hovered mark. Points stay this far inside the map's edges.
MARK_REACH = 18.0


@dataclass(frozen=True)
class Marker:
    """What a page puts on a map: a call, a coalition or a local action, with its link."""

    kind: str  # "call", "coalition" or "action": the mark's shape and colour
    name: str
    href: str
    latitude: float
    longitude: float
    detail: str = ""  # "by Chicago Tenants", "State hub"…


@dataclass(frozen=True)
class Pin:
    marker: Marker
    x: float
    y: float


@dataclass(frozen=True)
class Group:
    """Several markers drawn as one mark with their count; its link zooms to them (or to the list)."""

    x: float
    y: float
    markers: tuple[Marker, ...]
    href: str

    @property
    def count(self) -> int:
        return len(self.markers)

    @property
    def label(self) -> str:
        names = ", ".join(m.name for m in self.markers[:5])
        more = f" and {self.count - 5} more" if self.count > 5 else ""
        return f"{self.count} places here: {names}{more}. Zoom in"


@dataclass(frozen=True)
class DrawnMap:
    width: float
    height: float
    box: Box
    outlines: tuple[Outline, ...]
    pins: tuple[Pin, ...]
    groups: tuple[Group, ...]


def _usable(marker: Marker) -> bool:
    return (math.isfinite(marker.latitude) and math.isfinite(marker.longitude)
            and -90 <= marker.latitude <= 90 and -180 <= marker.longitude <= 180)


def _around(box: Box) -> Box:
    """A group's zoom: its members and some of their surroundings, so the zoomed map has landmarks."""
    pad_x = max((box.east - box.west) * 0.3, 0.02)
    pad_y = max((box.north - box.south) * 0.3, 0.02)
    return Box(max(box.west - pad_x, -180.0), max(box.south - pad_y, -90.0), min(box.east + pad_x, 180.0),
               min(box.north + pad_y, 90.0))


def _zoom_link(box: Box) -> str:
    return f"?bbox={box.query()}"


def draw_map(
    markers: Sequence[Marker], *, box: Box | None = None, width: float = 800.0,
    zoom_link: Callable[[Box], str] = _zoom_link, list_anchor: str = "#map-list",
) -> DrawnMap:
    """Lay ``markers`` out over country and state outlines.

    ``box`` is the area to show (a region, a cluster's zoom); without it, the markers' own box, or the world.
    Every mark is whole inside the picture: the view keeps ``MARK_REACH`` pixels around the area, and a
    marker only in the view's margin, which would be cut, is left out with those outside the view.
    Nearby ones are grouped, and a group links to ``zoom_link(its members' box)``, or to ``list_anchor``
    when they share one address.
    """
    usable = [m for m in markers if _usable(m)]
    around = bounds((m.longitude, m.latitude) for m in usable)
    if box is not None:
        view = fit(box, width=width, min_span=MIN_ZOOM_SPAN, margin=0.05, inset=MARK_REACH)
    elif around is not None:
        view = fit(around, width=width, min_span=MIN_SPAN, inset=MARK_REACH)
    else:
        view = fit(WORLD, width=width, margin=0.0)
    placed = [(m, *view.project(m.longitude, m.latitude)) for m in usable]
    # A group's centre is the mean of its members, so it is as far inside as they are.
    edge = MARK_REACH - 0.5  # a point on the area's own edge is MARK_REACH inside, give or take rounding
    shown = [(m, x, y) for m, x, y in placed if edge <= x <= view.width - edge and edge <= y <= view.height - edge]
    pins: list[Pin] = []
    groups: list[Group] = []
    for found in cluster(shown):
        x, y = round(found.x, 1), round(found.y, 1)
        if len(found.members) == 1:
            pins.append(Pin(found.members[0], x, y))
            continue
        members = bounds((m.longitude, m.latitude) for m in found.members)
        assert members is not None
        together = members.east - members.west < SAME_PLACE and members.north - members.south < SAME_PLACE
        groups.append(Group(x, y, tuple(found.members), list_anchor if together else zoom_link(_around(members))))
    return DrawnMap(view.width, view.height, view.box, outlines(view), tuple(pins), tuple(groups))
