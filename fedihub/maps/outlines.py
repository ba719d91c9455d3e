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


@dataclass(frozen=True)
class Outline:
    kind: str  # "country" or "state"
    name: str
    d: str  # SVG path data


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
    drawn = [Outline("country", s.feature.name, d) for s in layer(countries) if (d := _path(s, view, reach))]
    if reach.intersects(US_BOX):
        drawn += [Outline("state", s.feature.name, d) for s in layer("states") if (d := _path(s, view, reach))]
    return tuple(drawn)
