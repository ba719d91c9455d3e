"""The map in a real browser: outlines drawn by the server, a group of nearby calls that zooms in when
selected, and a call published without coordinates that appears where its city is."""

from __future__ import annotations

import math
from pathlib import Path

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
