"""The map in a real browser: outlines drawn by the server, a group of nearby calls that zooms in when
selected, and a call published without coordinates that appears where its city is."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest

from tests.browser.conftest import first_admin, screenshot

PASSWORD = "correct horse battery staple"


async def test_outlines_groups_that_zoom_and_a_geocoded_call(start_server, browser, page) -> None:  # type: ignore[no-untyped-def]
    server = await start_server("127.0.0.2")
    admin = await first_admin(browser, server, "ada", PASSWORD)
    server.fedihub("coalition", "create", "tenants", "--name", "Chicago Tenants Union")
    # Two calls in Chicago and next-door Oak Park, and one in Minneapolis, none with typed coordinates.
    for title, address in (("Rent strike rally", "50 W Washington St, Chicago, IL"),
                           ("Tenant assembly", "123 Madison St, Oak Park, IL")):
        server.fedihub("call", "create", "tenants", "--title", title, "--start", "2030-03-13T11:00",
                       "--place", title, "--address", address, "--region-state", "IL")
    # The third from the organizer's form: no latitude, no longitude, no time zone chosen.
    await admin.goto(server.base_url + "/manage/tenants/calls/new")
    await admin.fill("#call-title", "Capitol sit-in")
    await admin.fill("#call-start", "2030-03-20T10:00")
    await admin.fill("#call-place_name", "City Hall")
    await admin.fill("#call-region_city", "Minneapolis")
    await admin.fill("#call-region_state", "MN")
    await admin.get_by_role("button", name="Publish the call to action").click()
    await admin.wait_for_load_state()
    assert server.query("SELECT timezone, round(latitude, 1) FROM objects WHERE name = 'Capitol sit-in'") == [
        ("America/Chicago", 45.0)
    ]

    await page.goto(server.base_url + "/map")
    # Country and state outlines, drawn by the server as SVG paths; nothing loaded from elsewhere.
    assert await page.locator("svg.map path.map-state").count() >= 3
    assert await page.locator("svg.map path.map-country").count() >= 1
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.reload()
    assert requested and all(url.startswith(server.base_url) for url in requested), requested
    # Chicago's two calls are one mark with their count; Minneapolis' call is a point of its own.
    group = page.locator("svg.map a.map-cluster")
    assert await group.count() == 1 and await group.locator("text").text_content() == "2"
    assert await page.locator("svg.map a.map-call").count() == 1
    assert (await page.locator("svg.map a.map-call title").text_content() or "").startswith("Capitol sit-in")
    await screenshot(page, "40-map-outlines-and-group")

    await group.click()
    await page.wait_for_load_state()
    assert "bbox=" in page.url
    assert await page.locator("svg.map a.map-cluster").count() == 0
    names = sorted(t.split(" — ")[0] for t in await page.locator("svg.map a.map-call title").all_text_contents())
    assert names == ["Rent strike rally", "Tenant assembly"]
    await screenshot(page, "41-map-zoomed-to-a-group")
    await page.get_by_role("link", name="Show the whole map").click()
    await page.wait_for_load_state()
    assert await page.locator("svg.map a.map-cluster").count() == 1

    # A region zooms to its outline, and finds the calls whose state says "IL".
    await page.goto(server.base_url + "/map?region=Illinois")
    titles = " ".join(await page.locator("svg.map a title").all_text_contents())
    assert "Rent strike rally" in titles and "Tenant assembly" in titles and "Capitol sit-in" not in titles
    await screenshot(page, "42-map-illinois")


async def test_the_spot_of_a_call_is_picked_on_the_map(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server("127.0.0.2")
    admin = await first_admin(browser, server, "ada", PASSWORD)
    server.fedihub("coalition", "create", "tenants", "--name", "Chicago Tenants Union")
    server.fedihub("coalition", "update", "tenants", "--region-city", "Chicago", "--latitude", "41.85",
                   "--longitude", "-87.65")

    await admin.goto(server.base_url + "/manage/tenants/calls/new")
    # The coalition's own place and zone to start from, and a map around it.
    assert await admin.input_value("#call-latitude") == "41.85"
    assert await admin.input_value("#call-timezone") == "America/Chicago"
    picker = admin.locator("figure.map-pick svg.map")
    box = await picker.bounding_box()
    assert box is not None
    await picker.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})  # north-east of it

    latitude = float(await admin.input_value("#call-latitude"))
    longitude = float(await admin.input_value("#call-longitude"))
    assert 41.85 < latitude < 42.3 and -87.65 < longitude < -86.9
    await screenshot(admin, "43-call-form-pick-on-map")


async def test_a_configured_tile_server_draws_tiles_under_the_outlines(start_server, page) -> None:  # type: ignore[no-untyped-def]
    server = await start_server("127.0.0.2", map_tiles_url="https://tiles.example/{z}/{x}/{y}.png",
                                map_tiles_attribution="Example tiles")
    server.fedihub("coalition", "create", "tenants", "--name", "Chicago Tenants Union")
    server.fedihub("coalition", "update", "tenants", "--region-city", "Chicago", "--latitude", "41.85",
                   "--longitude", "-87.65")
    # The tile server of this test answers from here: a plain tile, and a record of what was asked.
    asked: list[str] = []
    tile = (Path(__file__).resolve().parents[2] / "fedihub" / "static" / "favicon.svg").read_bytes()

    async def answer(route) -> None:  # type: ignore[no-untyped-def]
        asked.append(route.request.url)
        await route.fulfill(status=200, content_type="image/svg+xml", body=tile)

    await page.route("https://tiles.example/**", answer)
    await page.goto(server.base_url + "/map")
    await page.wait_for_function("document.querySelectorAll('svg.map .map-tiles image').length > 0")

    # Tiles of one zoom level around Chicago, under the outlines, with the attribution shown.
    images = page.locator("svg.map .map-tiles image")
    hrefs = [await images.nth(i).get_attribute("href") for i in range(await images.count())]
    zooms = {href.split("/")[3] for href in hrefs if href}
    assert len(zooms) == 1 and 6 <= int(zoom := zooms.pop()) <= 10, hrefs
    # The tile that holds Chicago on the web's tile grid is drawn where the coalition's mark is.
    n = 2 ** int(zoom)
    tile_x = int((-87.65 + 180) / 360 * n)
    tile_y = int((1 - math.log(math.tan(math.radians(41.85)) + 1 / math.cos(math.radians(41.85))) / math.pi) / 2 * n)
    chicago = images.and_(page.locator(f'image[href="https://tiles.example/{zoom}/{tile_x}/{tile_y}.png"]'))
    x, y, size = [float(await chicago.get_attribute(name) or "nan") for name in ("x", "y", "width")]
    mark = page.locator("svg.map a.map-coalition rect")
    centre_x = float(await mark.get_attribute("x") or "nan") + 6
    centre_y = float(await mark.get_attribute("y") or "nan") + 6
    assert x <= centre_x <= x + size and y <= centre_y <= y + size
    assert "Example tiles" in await page.inner_text("figure.map-figure")
    assert await page.locator("svg.map.has-tiles path.map-state").count() > 0
    await page.wait_for_load_state("networkidle")
    assert asked


def _png_tile() -> bytes:
    """A plain 256 px square PNG, as a tile server answers."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (256, 256), (214, 228, 238)).save(out, format="PNG")
    return out.getvalue()


async def _view_box(page) -> list[float]:  # type: ignore[no-untyped-def]
    return [float(v) for v in (await page.get_attribute("svg.map", "viewBox") or "").split()]


def _tiles(urls: list[str]) -> set[tuple[int, int, int]]:
    """(zoom, x, y) of each tile asked for."""
    return {(int(z), int(x), int(y.split(".")[0])) for z, x, y in (url.split("/")[3:6] for url in urls)}


def _east_of(url: str, zoom: int, east_edge: int) -> bool:
    """A tile of level ``zoom`` east of column ``east_edge``."""
    if not url.startswith("https://tiles.example/"):
        return False
    [(z, x, _)] = _tiles([url])
    return z == zoom and x > east_edge


def _closer_than(url: str, zoom: int) -> bool:
    """A tile of a closer level than ``zoom``."""
    return url.startswith("https://tiles.example/") and _tiles([url]).pop()[0] > zoom


async def test_a_map_with_tiles_moves_by_drag_keys_wheel_and_buttons(start_server, page) -> None:  # type: ignore[no-untyped-def]
    server = await start_server("127.0.0.2", map_tiles_url="https://tiles.example/{z}/{x}/{y}.png",
                                map_tiles_attribution="Example tiles")
    for handle, name, lat, lon in (("tenants", "Chicago Tenants Union", "41.85", "-87.65"),
                                   ("northstar", "North Star Renters", "44.98", "-93.27")):
        server.fedihub("coalition", "create", handle, "--name", name)
        server.fedihub("coalition", "update", handle, "--latitude", lat, "--longitude", lon)
    asked: list[str] = []
    tile = _png_tile()

    async def answer(route) -> None:  # type: ignore[no-untyped-def]
        asked.append(route.request.url)
        await route.fulfill(status=200, content_type="image/png", body=tile)

    await page.route("https://tiles.example/**", answer)
    # Arrow keys and buttons then move the map at once rather than gliding.
    await page.emulate_media(reduced_motion="reduce")
    await page.goto(server.base_url + "/map")
    await page.wait_for_function("document.querySelectorAll('svg.map .map-tiles image').length > 0")
    await page.wait_for_load_state("networkidle")
    first = _tiles(asked)
    assert len({z for z, _, _ in first}) == 1
    help_text = page.get_by_text("Drag the map to move it")
    assert await help_text.is_visible() and await page.get_by_role("button", name="Zoom in").is_visible()
    redraw = page.get_by_role("link", name="Redraw the map for this area")
    assert not await redraw.is_visible()  # nothing moved yet

    # Dragging west, starting on a coalition's mark, shows what lies east; the mark goes along and is not followed.
    svg = page.locator("svg.map")
    mark = page.locator("svg.map a.map-coalition").first
    await mark.scroll_into_view_if_needed()
    before = await mark.bounding_box()
    assert before is not None
    start_x, start_y = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
    zoom = next(iter(first))[0]
    east_edge = max(x for _, x, _ in first)
    await page.mouse.move(start_x, start_y)
    await page.mouse.down()
    # The tiles coming into view are waited for as requests: networkidle was reached at load and no longer waits.
    async with page.expect_request(lambda r: _east_of(r.url, zoom, east_edge)) as east:
        await page.mouse.move(start_x - 300, start_y + 40, steps=8)
        await page.mouse.up()
    assert _east_of((await east.value).url, zoom, east_edge)
    assert page.url == server.base_url + "/map"
    after = await mark.bounding_box()
    assert after is not None
    assert abs(after["x"] - before["x"] + 300) < 2 and abs(after["y"] - before["y"] - 40) < 2
    assert (await _view_box(page))[0] > 0
    await screenshot(page, "44-map-dragged-with-tiles")

    # With the map selected, an arrow key moves it a fifth of its width; the keys reach no other part of the page.
    await svg.focus()
    x, y, width, height = await _view_box(page)
    await page.keyboard.press("ArrowRight")
    assert await _view_box(page) == pytest.approx([x + width * 0.2, y, width, height], abs=0.02)
    await page.keyboard.press("ArrowUp")
    assert (await _view_box(page))[1] == pytest.approx(y - height * 0.2, abs=0.02)

    # The wheel zooms in on the spot under the pointer: tiles of a closer level, marks the same size.
    box = await svg.bounding_box()
    assert box is not None
    size = (await mark.bounding_box() or {})["width"]
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # Waited for as a request, not with networkidle: that load state was reached long ago and no longer waits.
    async with page.expect_request(lambda r: _closer_than(r.url, zoom)):
        await page.mouse.wheel(0, -700)
    await page.wait_for_function(f"Array.from(document.querySelectorAll('svg.map .map-tiles image'))"
                                 f".some(i => Number(i.getAttribute('href').split('/')[3]) > {zoom})")
    assert (await _view_box(page))[2] < width / 2
    assert (await mark.bounding_box() or {})["width"] == pytest.approx(size, abs=1)
    await screenshot(page, "45-map-zoomed-with-the-wheel")

    # The buttons and keys zoom too, and the map can be redrawn by the server for the part shown.
    zoomed_width = (await _view_box(page))[2]
    await page.get_by_role("button", name="Zoom out").click()
    assert (await _view_box(page))[2] == pytest.approx(zoomed_width * 2, rel=1e-3)
    await svg.focus()
    await page.keyboard.press("+")
    assert (await _view_box(page))[2] == pytest.approx(zoomed_width, rel=1e-3)
    assert "Example tiles" in await page.inner_text("figure.map-figure")
    assert await redraw.is_visible()
    await redraw.click()
    await page.wait_for_load_state()
    assert "bbox=" in page.url and await page.get_by_role("link", name="Show the whole map").is_visible()
    assert all(url.startswith((server.base_url, "https://tiles.example/")) for url in asked + [page.url])
