"""The map: upcoming calls and coalitions with coordinates, drawn as SVG and listed as text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.directory.map_points import MapPoint, layout
from fedihub.storage.models import Actor, StoredObject
from tests.integration.directory_helpers import add_remote_group
from tests.integration.helpers import BROWSER
from tests.support.edges import committed
from tests.support.network import Instance

POINT = re.compile(r'<a href="([^"]*)" class="map-point map-(call|coalition)"><title>([^<]*)</title>')


async def map_page(instance: Instance, query: str = "") -> str:
    response = await instance.get(f"/map{query}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    return response.text


def points(page: str) -> set[tuple[str, str, str]]:
    """(link, kind, first words of the title) of every point drawn on the SVG map."""
    return {(href, kind, title.split(" — ")[0]) for href, kind, title in POINT.findall(page)}


def call_input(instance: Instance, title: str, *, days: float = 5, lat: float | None = 41.88,
               lon: float | None = -87.63, movements: list[str] | None = None) -> calls.CallInput:
    start = instance.ctx.clock() + timedelta(days=days)
    return calls.CallInput(
        title=title, description="Be there.", start=start, end=start + timedelta(hours=2), timezone="America/Chicago",
        place_name="Daley Plaza", movements=movements or ["Tenants"], region_city="Chicago", region_state="Illinois",
        region_country="US", latitude=lat, longitude=lon,
    )


async def add_remote_call(instance: Instance, author: Actor, title: str, *, lat: float, lon: float) -> StoredObject:
    now = instance.ctx.clock()
    uri = f"https://{author.domain}/events/{title.lower().replace(' ', '-')}"
    row = StoredObject(
        uri=uri, type="Event", attributed_to_id=author.id, is_local=False, visibility="public", name=title,
        url=uri, start_time=now + timedelta(days=3), timezone="America/Los_Angeles", movements=["Climate"],
        region_city="Oakland", region_state="California", latitude=lat, longitude=lon, data={"id": uri},
        created_at=now,
    )
    async with instance.ctx.sessions.begin() as session:
        session.add(row)
    return row


@pytest.fixture
async def mapped(a: Instance, tenants: Actor) -> Instance:
    await committed(a.ctx, save_profile, "tenants", parse_profile_form({
        "name": "Tenants Union", "summary": "", "movements": ["Tenants"], "tags": "", "region_city": "Chicago",
        "region_state": "Illinois", "region_country": "US", "latitude": "41.85", "longitude": "-87.65", "website": "",
    }))
    oakland = await add_remote_group(
        a, "climate", name="Bay Climate Action", movements=("Climate",),
        region_city="Oakland", region_state="California", latitude=37.80, longitude=-122.27,
    )
    await add_remote_group(a, "nowhere", name="Placeless Group", movements=("Climate",))
    await committed(a.ctx, calls.publish_call, "tenants", call_input(a, "Rent strike rally"))
    await committed(a.ctx, calls.publish_call, "tenants", call_input(a, "Online teach-in", lat=None, lon=None))
    await committed(a.ctx, calls.publish_call, "tenants", call_input(a, "Last year's march", days=-30))
    await add_remote_call(a, oakland, "Climate strike Oakland", lat=37.80, lon=-122.27)
    return a


async def test_the_map_draws_each_point_linking_to_its_page(mapped: Instance) -> None:
    page = await map_page(mapped)
    drawn = points(page)

    async with mapped.ctx.sessions() as session:
        rally = await session.scalar(select(StoredObject).where(StoredObject.name == "Rent strike rally"))
    assert drawn == {
        (rally.uri, "call", "Rent strike rally"),  # ours: its page here
        ("/calls/view?url=https%3A%2F%2Ffar.test%2Fevents%2Fclimate-strike-oakland", "call", "Climate strike Oakland"),
        ("http://a.test/g/tenants", "coalition", "Tenants Union"),
        ("https://far.test/groups/climate", "coalition", "Bay Climate Action"),
    }
    assert '<svg class="map"' in page and "<script" not in page.split("<main", 1)[1]
    # The list under the map repeats every point as text, and leaves out what has no place or is over.
    listed = page.split('id="map-calls-heading"', 1)[1]
    for name in ("Rent strike rally", "Climate strike Oakland", "Tenants Union", "Bay Climate Action"):
        assert name in listed
    for name in ("Online teach-in", "Last year&#39;s march", "Placeless Group"):
        assert name not in page


@pytest.mark.parametrize(("query", "expected"), [
    ("?movement=climate", {"Climate strike Oakland", "Bay Climate Action"}),
    ("?region=illinois", {"Rent strike rally", "Tenants Union"}),
    ("?region=Oakland&movement=climate", {"Climate strike Oakland", "Bay Climate Action"}),
    ("?movement=tenants&region=oakland", set()),
])
@pytest.mark.all_backends  # lower() behaves differently per database
async def test_the_map_filters_by_movement_and_region(mapped: Instance, query: str, expected: set[str]) -> None:
    page = await map_page(mapped, query)
    assert {title for _, _, title in points(page)} == expected
    if not expected:
        assert "Nothing with a place matches these filters" in page


async def test_an_empty_map_says_how_points_get_there(a: Instance) -> None:
    page = await map_page(a)
    assert "<svg class=\"map\"" not in page and "Nothing to show on the map yet" in page


async def test_remote_names_on_the_map_are_escaped(a: Instance) -> None:
    await add_remote_group(a, "x", name='</title><script>alert(1)</script>', latitude=1.0, longitude=2.0)
    page = await map_page(a)
    assert "<script>alert" not in page and "&lt;/title&gt;&lt;script&gt;" in page


def _point(lat: float, lon: float) -> MapPoint:
    return MapPoint(kind="coalition", name="x", uri="u", url="u", is_local=True, latitude=lat, longitude=lon,
                    detail="", region="")


def test_the_projection_fits_the_points_with_a_margin_north_up() -> None:
    drawn = layout([_point(41.88, -87.63), _point(37.80, -122.27), _point(40.71, -74.0)])

    xs = [p.x for p in drawn.points]
    ys = [p.y for p in drawn.points]
    assert all(0 < x < drawn.width for x in xs) and all(0 < y < drawn.height for y in ys)
    assert xs[1] < xs[0] < xs[2]  # west to east
    assert ys[0] < ys[1]  # Chicago is north of Oakland: higher up
    assert any(line.label.endswith("°N") for line in drawn.grid)
    assert any(line.label.endswith("°W") for line in drawn.grid)
    single = layout([_point(-33.9, 18.4)])
    assert 0 < single.points[0].x < single.width and 0 < single.points[0].y < single.height
