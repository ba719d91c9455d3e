"""The boundary files shipped in maps/atlas/, read lazily once per process, and the outline of a named region."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from fedihub.maps.projection import Box, bounds
from fedihub.maps.topojson import Feature, Ring, features
from fedihub.places.regions import Region, find_region

# Layer name → (file, object in it).
LAYERS = {
    "countries-110m": ("countries-110m.json", "countries"),
    "countries-50m": ("countries-50m.json", "countries"),
    "states": ("states-10m.json", "states"),
}


@dataclass(frozen=True)
class Shape:
    """A feature's rings with their boxes, so a view skips what it does not show without projecting it."""

    feature: Feature
    rings: tuple[tuple[Box, Ring], ...]

    @property
    def main_box(self) -> Box:
        """The box of its largest ring: the contiguous US rather than Alaska to Guam, France without Réunion."""
        box, _ = max(self.rings, key=lambda item: (item[0].east - item[0].west) * (item[0].north - item[0].south))
        return box


def _split_at_antimeridian(ring: Ring) -> list[Ring]:
    """Russia's and Fiji's rings jump from 180° to -180°: drawn as one shape it would span the whole map.

    Each side is its own closed ring; both ends of a side lie on the antimeridian, so closing it runs
    along the edge of the world, as the shape does.
    """
    parts: list[list[tuple[float, float]]] = [[]]
    for point in ring:
        if parts[-1] and abs(point[0] - parts[-1][-1][0]) > 180:
            parts.append([])
        parts[-1].append(point)
    if len(parts) > 1 and parts[0][0] == parts[-1][-1]:
        parts[0] = parts.pop() + parts[0][1:]  # the ring began mid-side: rejoin its two halves
    return [tuple(part + [part[0]]) if part[0] != part[-1] else tuple(part) for part in parts if len(part) >= 3]


@functools.cache
def layer(name: str) -> tuple[Shape, ...]:
    """One layer's shapes; the first map drawn reads the file (0.1–0.5 s), later ones reuse it."""
    filename, object_name = LAYERS[name]
    topology = json.loads(resources.files("fedihub.maps").joinpath("atlas", filename).read_bytes())
    shapes = []
    for feature in features(topology, object_name):
        rings = tuple(
            (box, part) for polygon in feature.polygons for ring in polygon for part in _split_at_antimeridian(ring)
            if (box := bounds(part))
        )
        if rings:
            shapes.append(Shape(feature, rings))
    return tuple(shapes)


def region_shape(region: Region) -> Shape | None:
    """A US state's or a country's outline, by the id the boundary files give it."""
    for shape in layer("states" if region.kind == "state" else "countries-50m"):
        if shape.feature.id == region.number:
            return shape
    return None


def region_box(text: str) -> Box | None:
    """The box of the region named by ``text`` ("Illinois", "IL", "France"), for /map?region=…; None if unknown."""
    region = find_region(text)
    shape = region_shape(region) if region is not None else None
    return shape.main_box if shape is not None else None
