"""Web Mercator for a box of longitudes and latitudes fitted into an SVG of a given width, north up."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_LATITUDE = 85.0  # Mercator stretches to infinity at the poles; web maps stop here too
MIN_ASPECT, MAX_ASPECT = 0.45, 0.75


@dataclass(frozen=True)
class Box:
    """West, south, east, north in degrees; never crosses the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, longitude: float, latitude: float) -> bool:
        return self.west <= longitude <= self.east and self.south <= latitude <= self.north

    def intersects(self, other: Box) -> bool:
        return not (other.east < self.west or other.west > self.east or other.north < self.south
                    or other.south > self.north)

    def query(self) -> str:
        """As the ``bbox`` parameter of /map: "west,south,east,north", four decimals."""
        return ",".join(f"{v:.4f}".rstrip("0").rstrip(".") for v in (self.west, self.south, self.east, self.north))


def bounds(points: Iterable[tuple[float, float]]) -> Box | None:
    """The smallest box around (longitude, latitude) points, or None for none."""
    listed = list(points)
    if not listed:
        return None
    lons, lats = [p[0] for p in listed], [p[1] for p in listed]
    return Box(min(lons), min(lats), max(lons), max(lats))


def parse_box(text: str) -> Box | None:
    """"west,south,east,north" as /map's ``bbox`` parameter, or None when it is not a usable box."""
    parts = text.split(",")
    if len(parts) != 4:
        return None
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return Box(west, south, east, north)


def _y(latitude: float) -> float:
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    return math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))


def _latitude(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


@dataclass(frozen=True)
class Viewport:
    """A box drawn ``width`` × ``height`` pixels; hashable, so drawn outlines can be cached per view."""

    box: Box
    width: float
    height: float

    @property
    def scale(self) -> float:
        return self.width / math.radians(self.box.east - self.box.west)

    def project(self, longitude: float, latitude: float) -> tuple[float, float]:
        scale = self.scale
        x = math.radians(longitude - self.box.west) * scale
        y = (_y(self.box.north) - _y(latitude)) * scale
        return x, y

    def unproject(self, x: float, y: float) -> tuple[float, float]:
        scale = self.scale
        return self.box.west + math.degrees(x / scale), _latitude(_y(self.box.north) - y / scale)


def fit(
    box: Box, *, width: float = 800.0, min_span: float = 1.0, margin: float = 0.1, inset: float = 0.0,
) -> Viewport:
    """A viewport showing ``box`` with a margin, at least ``min_span`` degrees wide, in a pleasant shape.

    A box too flat grows north and south, one too tall grows east and west, so a single city is shown with
    its surroundings and a long coast is not a sliver. ``box`` ends at least ``inset`` pixels inside every
    edge, even where that shows a little beyond the world's edge: a mark drawn there is not cut.
    """
    centre_lon = (box.west + box.east) / 2
    span = max(box.east - box.west, min_span) * (1 + 2 * margin)
    west, east = centre_lon - span / 2, centre_lon + span / 2
    y_south, y_north = _y(box.south), _y(box.north)
    pad = (y_north - y_south) * margin
    y_south, y_north = y_south - pad, y_north + pad
    x_span = math.radians(east - west)
    y_span = y_north - y_south
    if y_span / x_span < MIN_ASPECT:
        grow = (x_span * MIN_ASPECT - y_span) / 2
        y_south, y_north = y_south - grow, y_north + grow
    elif y_span / x_span > MAX_ASPECT:
        grow = math.degrees((y_span / MAX_ASPECT - x_span) / 2)
        west, east = west - grow, east + grow
    # The world ends at ±180° and ±85°: slide the box back inside rather than draw empty space.
    if east - west >= 360:
        west, east = -180.0, 180.0
    elif west < -180:
        west, east = -180.0, east + (-180 - west)
    elif east > 180:
        west, east = west - (east - 180), 180.0
    y_max = _y(MAX_LATITUDE)
    y_south, y_north = max(y_south, -y_max), min(y_north, y_max)
    if inset > 0:
        share = inset / width
        low, high = _gaps(math.radians(box.west - west), math.radians(east - box.east),
                          math.radians(box.east - box.west), share)
        west, east = box.west - math.degrees(low), box.east + math.degrees(high)
        reach = share * math.radians(east - west)  # the inset in projected units, now that the width is known
        y_south, y_north = min(y_south, _y(box.south) - reach), max(y_north, _y(box.north) + reach)
    # Rounded outwards, so rounding never takes back part of the inset.
    shown = Box(math.floor(west * 1e4) / 1e4, math.floor(_latitude(y_south) * 1e4) / 1e4,
                math.ceil(east * 1e4) / 1e4, math.ceil(_latitude(y_north) * 1e4) / 1e4)
    height = (y_north - y_south) * width / math.radians(shown.east - shown.west)
    return Viewport(shown, width, round(height, 1))


def _gaps(low: float, high: float, content: float, share: float) -> tuple[float, float]:
    """The gaps either side of ``content``, each grown to at least ``share`` of the whole span if it is less.

    The whole span grows with each gap, so the smallest solution is found case by case: neither gap grows,
    only the smaller one, or both.
    """
    if min(low, high) >= share * (content + low + high):
        return low, high
    small, large = min(low, high), max(low, high)
    grown = share * (content + large) / (1 - share)
    if grown >= small and large >= grown:
        return (grown, high) if low <= high else (low, grown)
    both = share * content / (1 - 2 * share)
    return both, both
