"""The directory and the map in a real browser: a state hub's server lists the coalitions it knows,
a visitor narrows the list by movement, region and text, and the city's map links each point to its page."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot
from tests.support.processes import wait_for

PASSWORD = "correct horse battery staple"
COALITIONS = [
    # handle, name, movement label to tick, city, latitude, longitude
    ("tenants", "Chicago Tenants Union", "Housing and tenants", "Chicago", "41.8781", "-87.6298"),
    ("climate", "Springfield Climate Action", "Climate justice", "Springfield", "39.7817", "-89.6501"),
    ("workers", "Rockford Workers Center", "Labour and workers' rights", "Rockford", "42.2711", "-89.0940"),
]


async def _entries(page) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(await page.locator(".directory-entry .coalition-card-name").all_inner_texts())


async def test_directory_filters_and_map_points(start_server, browser, page) -> None:  # type: ignore[no-untyped-def]
    city = await start_server("127.0.0.2")
    state = await start_server("127.0.0.3")
    admin = await first_admin(browser, city, "ada", PASSWORD)
    for handle, name, movement, town, lat, lon in COALITIONS:
        city.fedihub("coalition", "create", handle, "--name", name)
        await admin.goto(f"{city.base_url}/manage/{handle}/profile")
        await admin.get_by_label(movement, exact=True).check()
        await admin.fill("#profile-region_city", town)
        await admin.fill("#profile-region_state", "Illinois")
        await admin.fill("#profile-region_country", "US")
        await admin.fill("#profile-latitude", lat)
        await admin.fill("#profile-longitude", lon)
        await admin.get_by_role("button", name="Save").first.click()
        await admin.wait_for_load_state()
    await admin.goto(city.base_url + "/manage/tenants/calls/new")
    await admin.fill("#call-title", "Rent strike rally")
    await admin.fill("#call-description", "We march at noon.")
    await admin.fill("#call-start", "2030-03-13T11:00")
    await admin.fill("#call-end", "2030-03-13T14:00")
    await admin.select_option("#call-timezone", "America/Chicago")
    await admin.fill("#call-place_name", "Daley Plaza")
    await admin.fill("#call-latitude", "41.8837")
    await admin.fill("#call-longitude", "-87.6303")
    await admin.get_by_role("button", name="Publish the call to action").click()
    await admin.wait_for_load_state()
    call_url = city.query("SELECT uri FROM objects WHERE type = 'Event'")[0][0]

    # The state hub takes all three as members: its server now knows them, with their profiles.
    state.fedihub("hub", "create", "illinois", "--name", "Illinois Hub", "--scope", "state", "--region", "Illinois")
    state.fedihub("hub", "add-member", "illinois", *(f"{handle}@{city.host}" for handle, *_ in COALITIONS))
    await wait_for(lambda: len(state.query("SELECT 1 FROM follows WHERE state = 'accepted'")) == 3,
                   what="the members to accept the hub", timeout=30, watch=[city.process, state.process])

    await page.goto(state.base_url + "/")
    await page.get_by_role("link", name="Directory").click()
    assert await _entries(page) == ["Chicago Tenants Union", "Illinois Hub", "Rockford Workers Center",
                                    "Springfield Climate Action"]
    await screenshot(page, "30-directory")

    await page.select_option("#f-movement", "climate")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_load_state()
    assert await _entries(page) == ["Springfield Climate Action"]
    assert "movement=climate" in page.url  # bookmarkable

    await page.get_by_role("link", name="Clear filters").click()
    await page.fill("#f-region", "rockford")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_load_state()
    assert await _entries(page) == ["Rockford Workers Center"]

    await page.fill("#f-region", "")
    await page.fill("#f-q", "tenants")
    await page.select_option("#f-scope", "coalition")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_load_state()
    assert await _entries(page) == ["Chicago Tenants Union"]
    await screenshot(page, "31-directory-filtered")
    await page.get_by_role("link", name="Chicago Tenants Union").click()
    await page.wait_for_load_state()
    assert page.url == f"{city.base_url}/g/tenants"

    # The city's map: the call and the three coalitions, each point a link to its page. The call and the
    # Chicago coalition are a few hundred metres apart: one mark with their count, which zooms in.
    await page.goto(city.base_url + "/map")
    group = page.locator("svg.map a.map-cluster")
    assert await group.count() == 1 and await group.locator("text").text_content() == "2"
    assert await page.locator("svg.map a.map-coalition").count() == 2
    titles = await page.locator("svg.map a title").all_text_contents()  # each mark named for screen readers
    assert any("Rent strike rally" in title for title in titles) and len(titles) == 3
    await screenshot(page, "32-map")
    await group.click()
    await page.wait_for_load_state()
    assert await page.locator("svg.map a.map-coalition").count() == 1
    await page.locator("svg.map a.map-call").click()
    await page.wait_for_load_state()
    assert page.url == call_url
    assert "Rent strike rally" in await page.inner_text("main")

    await page.goto(city.base_url + "/map?movement=labour")
    assert await page.locator("svg.map a.map-call").count() == 0
    assert await page.locator("svg.map a.map-coalition").count() == 1
    await page.locator("svg.map a.map-coalition").click()
    await page.wait_for_load_state()
    assert page.url == f"{city.base_url}/g/workers"
