"""TopoJSON decoding (quantized, delta-encoded arcs) into polygons of longitude/latitude rings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]  # (longitude, latitude)
Ring = tuple[Point, ...]
Polygon = tuple[Ring, ...]  # the outer ring, then its holes


class TopologyError(ValueError):
    """The file is not the TopoJSON this decoder reads (a packaging mistake, never user input)."""


@dataclass(frozen=True)
class Feature:
    """One country or state: its id in the file (ISO 3166 numeric, or a state's FIPS code), name and shape."""

    id: str
    name: str
    polygons: tuple[Polygon, ...]


def decode_arcs(topology: Mapping[str, Any]) -> list[list[Point]]:
    """Every arc as absolute coordinates.

    TopoJSON specification §2.1.2–2.1.3: with a ``transform``, an arc's positions are quantized and each
    one after the first is a delta from the previous; undo both. Without it they are plain coordinates.
    """
    transform = topology.get("transform")
    arcs: list[list[Point]] = []
    if transform is None:
        for arc in topology["arcs"]:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
        return arcs
    (kx, ky), (dx, dy) = transform["scale"], transform["translate"]
    for arc in topology["arcs"]:
        x = y = 0
        points: list[Point] = []
        for position in arc:
            x += position[0]
            y += position[1]
            points.append((x * kx + dx, y * ky + dy))
        arcs.append(points)
    return arcs


def stitch(arcs: Sequence[Sequence[Point]], indexes: Sequence[int]) -> Ring:
    """One ring from arc indexes: a negative index ``~i`` is arc ``i`` reversed (§2.2.1).

    Consecutive arcs share their joining point, so it is written once.
    """
    ring: list[Point] = []
    for index in indexes:
        arc = list(arcs[~index])[::-1] if index < 0 else list(arcs[index])
        ring.extend(arc[1:] if ring else arc)
    return tuple(ring)


def _polygons(geometry: Mapping[str, Any], arcs: Sequence[Sequence[Point]]) -> tuple[Polygon, ...]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return (tuple(stitch(arcs, ring) for ring in geometry["arcs"]),)
    if kind == "MultiPolygon":
        return tuple(tuple(stitch(arcs, ring) for ring in polygon) for polygon in geometry["arcs"])
    if kind is None or kind == "GeometryCollection":
        return ()  # features without geometry exist in world-atlas (id-only placeholders)
    raise TopologyError(f"only polygons are read here, not {kind}")


def features(topology: Mapping[str, Any], name: str) -> list[Feature]:
    """The features of the object ``name`` (a GeometryCollection), each with its polygons."""
    if topology.get("type") != "Topology" or name not in topology.get("objects", {}):
        raise TopologyError(f"no object {name!r} in this topology")
    arcs = decode_arcs(topology)
    found = []
    for geometry in topology["objects"][name].get("geometries", []):
        properties = geometry.get("properties") or {}
        found.append(Feature(str(geometry.get("id", "")), str(properties.get("name", "")), _polygons(geometry, arcs)))
    return found
