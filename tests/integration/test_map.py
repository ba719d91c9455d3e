"""The map: upcoming calls and coalitions with coordinates, drawn as SVG and listed as text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.errors import ConfigurationError
from fedihub.settings import Settings
from fedihub.storage.models import Actor, StoredObject
from tests.integration.directory_helpers import add_remote_group
from tests.integration.helpers import BROWSER
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

POINT = re.compile(r'<a href="([^"]*)" class="map-point map-(call|coalition)"><title>([^<]*)</title>')
GROUP = re.compile(r'<a href="([^"]*)" class="map-cluster" data-count="(\d+)"><title>([^<]*)</title>')


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
    # Chicago's call and coalition are a few kilometres apart: on a map of the US they are one group of two,
    # whose link zooms in to where both are apart. Oakland's pair shares one address: its group links to the list.
    (zoom, count, label), (to_list, _, oakland_label) = sorted(GROUP.findall(page), key=lambda g: g[0], reverse=True)
    assert count == "2" and "Tenants Union" in label and "Rent strike rally" in label
    assert zoom.startswith("/map?bbox=") and "Oakland" not in label
    assert to_list == "#map-list" and "Climate strike Oakland" in oakland_label and 'id="map-list"' in page
    assert 'class="map-country"' in page and 'class="map-state"' in page  # outlines, drawn here
    drawn = points(await map_page(mapped, zoom.removeprefix("/map").replace("&amp;", "&")))

    async with mapped.ctx.sessions() as session:
        rally = await session.scalar(select(StoredObject).where(StoredObject.name == "Rent strike rally"))
    assert drawn == {
        (rally.uri, "call", "Rent strike rally"),  # ours: its page here
        ("http://a.test/g/tenants", "coalition", "Tenants Union"),
    }
    listed = page.split('id="map-calls-heading"', 1)[1]
    assert "/calls/view?url=https%3A%2F%2Ffar.test%2Fevents%2Fclimate-strike-oakland" in listed
    assert "https://far.test/groups/climate" in listed
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
    grouped = {name.strip() for *_, label in GROUP.findall(page)
               for name in label.split(": ", 1)[1].removesuffix(". Zoom in").split(", ")}
    assert {title for _, _, title in points(page)} | grouped == expected
    if not expected:
        assert "Nothing with a place matches these filters" in page


async def test_an_empty_map_says_how_points_get_there(a: Instance) -> None:
    page = await map_page(a)
    assert "<svg class=\"map\"" not in page and "Nothing to show on the map yet" in page


async def test_remote_names_on_the_map_are_escaped(a: Instance) -> None:
    await add_remote_group(a, "x", name='</title><script>alert(1)</script>', latitude=1.0, longitude=2.0)
    page = await map_page(a)
    assert "<script>alert" not in page and "&lt;/title&gt;&lt;script&gt;" in page


async def test_a_region_zooms_the_map_to_its_outline(mapped: Instance) -> None:
    page = await map_page(mapped, "?region=IL")
    box = re.search(r'data-bbox="([^"]+)"', page)
    assert box is not None
    west, south, east, north = (float(v) for v in box.group(1).split(","))
    # All of Illinois (91.5°W to 87.5°W, 37°N to 42.5°N), widened to a landscape shape, and not much more.
    assert west < -91.5 and east > -87.5 and south < 37 and north > 42.5
    assert east - west < 12 and north - south < 8


async def test_a_bad_map_area_is_named_and_the_map_still_shown(mapped: Instance) -> None:
    response = await mapped.get("/map?bbox=0,0,nope,1", headers={"Accept": BROWSER})
    assert response.status_code == 400 and "map area (bbox)" in response.text and '<svg class="map"' in response.text


ASSETS = re.compile(r'<(?:script|img|image|link|iframe|source)\b[^>]*?(?:src|href)="([^"]*)"', re.I)


async def test_without_a_tile_server_the_map_loads_nothing_from_elsewhere(mapped: Instance) -> None:
    response = await mapped.get("/map", headers={"Accept": BROWSER})
    page = response.text

    loaded = ASSETS.findall(page.split("<main", 1)[1]) + ASSETS.findall(page.split("<main", 1)[0])
    own = [url for url in loaded
           if url.startswith("http://a.test/") or (url.startswith("/") and not url.startswith("//"))]
    assert loaded and own == loaded, loaded
    assert "data-tiles" not in page and "map-tiles.js" not in page and "url(" not in page
    assert "map-pan.js" not in page and "data-map-zoom" not in page  # the map does not move: zoom links only
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self';" in csp
    # Not even an image from elsewhere would be shown there.
    assert "img-src 'self' data:;" in csp


async def test_a_configured_tile_server_is_drawn_under_the_outlines_with_its_attribution(net: FederationNet) -> None:
    tiled = await net.add_instance(
        "tiles.test", map_tiles_url="https://tiles.example/{z}/{x}/{y}.png",
        map_tiles_attribution="© OpenStreetMap contributors",
    )
    await add_remote_group(tiled, "climate", name="Bay Climate Action", latitude=37.80, longitude=-122.27)

    response = await tiled.get("/map", headers={"Accept": BROWSER})
    page = response.text

    assert 'data-tiles="https://tiles.example/{z}/{x}/{y}.png"' in page
    assert '<script src="/static/map-tiles.js" defer>' in page and "© OpenStreetMap contributors" in page
    assert 'class="map-state"' in page  # the outlines stay: without the script they are the map
    # The buttons that move the map are there for the script, hidden without it.
    assert re.search(r'<div class="map-zoom-buttons" data-map-controls hidden>', page)
    assert '<script src="/static/map-pan.js" defer>' in page
    # Images from the tile server, and from no other.
    assert "img-src 'self' data: https://tiles.example;" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("url", "attribution"), [
    ("http://tiles.example/{z}/{x}/{y}.png", "x"), ("https://tiles.example/tile.png", "x"),
    ("https://tiles.example/{z}/{x}/{y}.png", ""),
])
def test_a_tile_server_needs_https_the_tile_template_and_an_attribution(url: str, attribution: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings(map_tiles_url=url, map_tiles_attribution=attribution)
