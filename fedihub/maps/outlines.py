"""Country and state outlines as SVG path data for one view: culled, projected, simplified, cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fedihub.maps.atlas import Shape, layer
from fedihub.maps.projection import Box, Viewport

# A view wider than this many degrees uses the 1:110m countries, a closer one the 1:50m ones.
COARSE_SPAN = 60.0
# Points closer than this many pixels to the last one kept add nothing a reader can see.
MIN_STEP = 1.5
US_BOX = Box(-180.0, 15.0, -60.0, 72.0)


# Where states are drawn, the US's own shape is left out: Natural Earth's country fills the Great Lakes,
# the Census states follow their shores.
US_ID = "840"
LABEL_CHAR = 7.0  # pixels per character of a 12 px label, roughly


@dataclass(frozen=True)
class Outline:
    kind: str  # "country" or "state"
    name: str
    d: str  # SVG path data
    # Where its name is written (the middle of its main shape), or None when the name would not fit.
    label_x: float | None = None
    label_y: float | None = None


def _outline(kind: str, shape: Shape, view: Viewport, reach: Box) -> Outline | None:
    d = _path(shape, view, reach)
    if not d:
        return None
    main = shape.main_box
    west, north = view.project(main.west, main.north)
    east, south = view.project(main.east, main.south)
    x, y = (west + east) / 2, (north + south) / 2
    fits = east - west > LABEL_CHAR * len(shape.feature.name) and south - north > 14
    inside = 20 < x < view.width - 20 and 12 < y < view.height - 8
    if fits and inside:
        return Outline(kind, shape.feature.name, d, round(x, 1), round(y, 1))
    return Outline(kind, shape.feature.name, d)


def _path(shape: Shape, view: Viewport, reach: Box) -> str:
    parts = []
    # Points beyond the picture are pulled onto a frame a little outside it: a coast that runs on for
    # thousands of kilometres off-screen then costs a few points, and the shape still fills correctly.
    pad = view.width * 0.05
    low_x, high_x, low_y, high_y = -pad, view.width + pad, -pad, view.height + pad
    for box, ring in shape.rings:
        if not reach.intersects(box):
            continue
        kept: list[tuple[float, float]] = []
        for longitude, latitude in ring:
            x, y = view.project(longitude, latitude)
            x, y = min(max(x, low_x), high_x), min(max(y, low_y), high_y)
            if kept and abs(x - kept[-1][0]) < MIN_STEP and abs(y - kept[-1][1]) < MIN_STEP:
                continue
            kept.append((x, y))
        if len(kept) >= 3:
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in kept) + "Z")
    return "".join(parts)


@functools.lru_cache(maxsize=64)
def outlines(view: Viewport) -> tuple[Outline, ...]:
    """Countries, then US states when the view reaches the US; cached per view (a map is drawn again and again)."""
    box = view.box
    # A little beyond the view, so a coast just outside the edge still closes its shape there.
    pad = (box.east - box.west) * 0.05
    reach = Box(box.west - pad, box.south - pad, box.east + pad, box.north + pad)
    countries = "countries-110m" if box.east - box.west > COARSE_SPAN else "countries-50m"
    states = reach.intersects(US_BOX) and box.east - box.west <= COARSE_SPAN
    drawn = [_outline("country", s, view, reach) for s in layer(countries) if not (states and s.feature.id == US_ID)]
    if states:
        drawn += [_outline("state", s, view, reach) for s in layer("states")]
    return tuple(outline for outline in drawn if outline is not None)
