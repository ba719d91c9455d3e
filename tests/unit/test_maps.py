"""The server-drawn map: TopoJSON decoding, the projection, clustering and the outlines of a view."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fedihub.maps.atlas import layer, region_box
from fedihub.maps.clusters import cluster
from fedihub.maps.draw import Marker, draw_map
from fedihub.maps.projection import Box, fit, parse_box
from fedihub.maps.topojson import TopologyError, decode_arcs, features, stitch

# The TopoJSON specification's own example shape (§2.1.3, quantized and delta-encoded), two squares
# sharing an edge: arc 0 is the shared edge, arcs 1 and 2 close each square.
TOPOLOGY: dict[str, Any] = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
    "arcs": [[[2, 0], [0, 4]], [[2, 4], [-2, 0], [0, -4], [2, 0]], [[2, 0], [2, 0], [0, 4], [-2, 0]]],
    "objects": {"squares": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "id": "1", "properties": {"name": "West"}, "arcs": [[0, 1]]},
        {"type": "MultiPolygon", "id": "2", "properties": {"name": "East"}, "arcs": [[[2, ~0]]]},
        {"type": None, "id": "3"},
    ]}},
}


def test_quantized_arcs_are_undeltaed_and_scaled() -> None:
    arcs = decode_arcs(TOPOLOGY)
    assert arcs[0] == [(11.0, 20.0), (11.0, 21.0)]
    assert arcs[1] == [(11.0, 21.0), (10.0, 21.0), (10.0, 20.0), (11.0, 20.0)]


def test_a_negative_index_reverses_its_arc_and_joins_are_written_once() -> None:
    arcs = decode_arcs(TOPOLOGY)
    assert stitch(arcs, [0, 1]) == ((11.0, 20.0), (11.0, 21.0), (10.0, 21.0), (10.0, 20.0), (11.0, 20.0))
    assert stitch(arcs, [2, ~0]) == ((11.0, 20.0), (12.0, 20.0), (12.0, 21.0), (11.0, 21.0), (11.0, 20.0))


def test_features_carry_their_id_name_and_polygons() -> None:
    west, east, empty = features(TOPOLOGY, "squares")
    assert (west.id, west.name, len(west.polygons)) == ("1", "West", 1)
    assert east.polygons[0][0][1] == (12.0, 20.0)
    assert empty.polygons == ()
    with pytest.raises(TopologyError):
        features(TOPOLOGY, "circles")


def test_the_shipped_boundaries_decode_into_closed_rings_on_earth() -> None:
    for name in ("countries-110m", "states"):
        for shape in layer(name):
            for box, ring in shape.rings:
                assert ring[0] == ring[-1]
                assert -180 <= box.west <= box.east <= 180 and -90 <= box.south <= box.north <= 90
    names = {shape.feature.name for shape in layer("states")}
    assert {"Illinois", "Hawaii", "Puerto Rico"} <= names


def test_a_region_box_is_its_main_outline() -> None:
    illinois, usa = region_box("IL"), region_box("United States")
    assert illinois is not None and illinois.contains(-87.63, 41.88) and not illinois.contains(-93.3, 37.2)
    assert usa is not None and usa.contains(-87.63, 41.88) and not usa.contains(-149.9, 61.2)  # not Alaska
    assert region_box("Atlantis") is None


def test_the_projection_is_north_up_west_to_east_and_fits_the_box() -> None:
    view = fit(Box(-122.27, 37.8, -74.0, 41.88), width=800)
    chicago, oakland, new_york = (view.project(-87.63, 41.88), view.project(-122.27, 37.8), view.project(-74.0, 40.71))
    assert oakland[0] < chicago[0] < new_york[0]
    assert chicago[1] < oakland[1]
    for x, y in (chicago, oakland, new_york):
        assert 0 < x < view.width and 0 < y < view.height
    lon, lat = view.unproject(*chicago)
    assert math.isclose(lon, -87.63, abs_tol=1e-6) and math.isclose(lat, 41.88, abs_tol=1e-6)


def test_a_single_point_gets_a_town_sized_view() -> None:
    view = fit(Box(2.35, 48.85, 2.35, 48.85), width=800, min_span=1.5)
    assert view.box.east - view.box.west >= 1.5 and view.box.contains(2.35, 48.85)
    assert 0.4 < view.height / view.width < 0.8


@pytest.mark.parametrize("text", ["", "1,2,3", "a,b,c,d", "10,0,5,1", "-200,0,0,1", "0,0,1,nan"])
def test_a_bad_bbox_is_refused(text: str) -> None:
    assert parse_box(text) is None


def test_nearby_points_cluster_and_distant_ones_do_not() -> None:
    groups = cluster([("a", 100.0, 100.0), ("b", 110.0, 104.0), ("c", 400.0, 100.0), ("d", 101.0, 99.0)])
    assert sorted(sorted(g.members) for g in groups) == [["a", "b", "d"], ["c"]]


def _marker(name: str, lat: float, lon: float) -> Marker:
    return Marker("call", name, f"/{name}", lat, lon)


def test_a_map_groups_one_city_and_the_group_zooms_to_it() -> None:
    markers = [_marker("a", 41.88, -87.63), _marker("b", 41.90, -87.65), _marker("c", 37.8, -122.27)]
    drawn = draw_map(markers)
    assert [p.marker.name for p in drawn.pins] == ["c"]
    (group,) = drawn.groups
    assert group.count == 2 and group.href == "?bbox=-87.67,41.86,-87.61,41.92"  # the two, and around them
    assert {o.name for o in drawn.outlines} >= {"Illinois", "California", "Canada", "Mexico"}
    # Where the states are drawn the US itself is not: its Natural Earth shape would cover the Great Lakes.
    assert "United States of America" not in {o.name for o in drawn.outlines}
    zoomed = draw_map(markers, box=parse_box("-87.65,41.88,-87.63,41.9"))
    assert sorted(p.marker.name for p in zoomed.pins) == ["a", "b"] and not zoomed.groups


def test_points_at_one_address_link_to_the_list() -> None:
    drawn = draw_map([_marker("a", 41.88, -87.63), _marker("b", 41.88, -87.63)])
    assert drawn.groups[0].href == "#map-list"


def test_an_empty_map_shows_the_world_without_points() -> None:
    drawn = draw_map([])
    assert drawn.box.west == -180 and drawn.box.east == 180 and not drawn.pins
    assert len(drawn.outlines) > 150


def test_the_outlines_of_a_city_view_stay_small() -> None:
    drawn = draw_map([_marker("a", 41.88, -87.63)])
    assert sum(len(o.d) for o in drawn.outlines) < 20_000
    assert {o.name for o in drawn.outlines} >= {"Illinois", "Indiana"}


def test_shapes_across_the_antimeridian_do_not_spill_over_other_views() -> None:
    # Russia's ring runs on past 180° into -180°: unsplit, its box would be the whole world's width.
    russia = next(s for s in layer("countries-50m") if s.feature.name == "Russia")
    assert all(box.east - box.west < 180 for box, _ in russia.rings)
    assert "Russia" not in {o.name for o in draw_map([_marker("a", 41.88, -87.63)]).outlines}


# How far each mark reaches from its centre as _map.html draws it (a diamond's half-diagonal, a group's circle).
REACH = {"call": 7.0, "action": 5.0, "coalition": 6 * math.sqrt(2)}


def _whole_inside(drawn: Any) -> list[str]:
    """The marks of a drawn map that would be cut by its edge."""
    marks = [(p.marker.name, p.x, p.y, REACH[p.marker.kind]) for p in drawn.pins]
    marks += [(f"group of {g.count}", g.x, g.y, 12.0 if g.count < 10 else 15.0) for g in drawn.groups]
    return [name for name, x, y, r in marks
            if not (r <= x <= drawn.width - r and r <= y <= drawn.height - r)]


@pytest.mark.parametrize("markers, box", [
    # The points' own box: the westernmost, easternmost, northernmost and southernmost are on its edge.
    ([_marker("chicago", 41.88, -87.63), _marker("minneapolis", 44.98, -93.27), _marker("miami", 25.76, -80.19)],
     None),
    ([Marker("coalition", "tenants", "/g/tenants", 41.85, -87.65)], None),
    # Across the Pacific, on both sides of the antimeridian, and far north.
    ([_marker("suva", -18.14, 178.44), _marker("apia", -13.83, -171.76), _marker("svalbard", 78.22, 15.65)], None),
    ([_marker(f"c{i}", 41.88 + i * 0.0001, -87.63) for i in range(12)] + [_marker("far", 0.0, 179.99)], None),
    # A zoom with points on its edges, and a grid of points beyond them, some in the view's margin.
    ([_marker("on-west-edge", 41.89, -87.65), _marker("on-north-edge", 41.9, -87.64)]
     + [_marker(f"grid{i},{j}", 41.87 + i * 0.001, -87.66 + j * 0.001) for i in range(41) for j in range(41)],
     parse_box("-87.65,41.88,-87.63,41.9")),
    ([_marker("illinois", 42.5, -91.5), _marker("corner", 37.0, -87.5)], region_box("IL")),
])
def test_every_mark_is_whole_inside_the_map(markers: list[Marker], box: Box | None) -> None:
    drawn = draw_map(markers, box=box)
    assert _whole_inside(drawn) == []
    asked = box or Box(-180, -90, 180, 90)
    drawn_names = {p.marker.name for p in drawn.pins} | {m.name for g in drawn.groups for m in g.markers}
    # Every point of the area asked for is on the map; only points beyond it may be left out.
    assert {m.name for m in markers if asked.contains(m.longitude, m.latitude)} <= drawn_names
