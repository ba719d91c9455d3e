"""The call form's place and time: found offline when left empty, the coalition's zone first, past dates asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.places.online import OnlineGeocoder
from fedihub.storage.models import Actor, StoredObject
from tests.integration.helpers import BROWSER, count_rows
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.integration.test_manage_posts import CALL, NEW
from tests.support.edges import committed
from tests.support.network import Instance
from tests.support.stored import only_event

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


async def _in_chicago(a: Instance, *, coordinates: bool) -> None:
    await committed(a.ctx, save_profile, "tenants", parse_profile_form({
        "name": "Tenants Union", "summary": "", "movements": ["Tenants"], "tags": "", "region_city": "Chicago",
        "region_state": "Illinois", "region_country": "US", "latitude": "41.85" if coordinates else "",
        "longitude": "-87.65" if coordinates else "", "website": "",
    }))


async def test_the_first_call_of_a_chicago_coalition_defaults_to_chicago_time(a: Instance, eddie: Browser) -> None:
    await _in_chicago(a, coordinates=False)  # a town in the profile is enough

    form = (await eddie.get(NEW)).text

    assert '<option value="America/Chicago" selected>' in form
    assert '<option value="UTC" selected>' not in form


async def test_the_coalitions_coordinates_are_prefilled_and_a_map_offered_to_pick(a: Instance, eddie: Browser) -> None:
    await _in_chicago(a, coordinates=True)

    form = (await eddie.get(NEW)).text

    assert '<input id="call-latitude" name="latitude" type="text" value="41.85"' in form
    assert '<input id="call-longitude" name="longitude" type="text" value="-87.65"' in form
    assert 'data-pick-latitude="call-latitude"' in form and 'class="map-state"' in form


async def test_without_a_known_place_the_zone_is_found_from_the_calls_place(a: Instance, eddie: Browser) -> None:
    form = (await eddie.get(NEW)).text
    assert '<option value="" selected>Find it from the place</option>' in form  # not UTC

    response = await eddie.submit(NEW, NEW, {**CALL, "timezone": "", "address": "", "region_city": "Paris",
                                             "region_state": "", "region_country": "France"})

    assert response.status_code == 303, field_error(response, "call-timezone")
    row = await only_event(a)
    assert row.timezone == "Europe/Paris" and row.start_time is not None
    assert row.start_time.isoformat() == "2031-03-14T10:00:00+00:00"  # 11:00 in Paris


async def test_no_place_and_no_zone_asks_for_the_zone(a: Instance, eddie: Browser) -> None:
    response = await eddie.submit(NEW, NEW, {**CALL, "timezone": "", "address": "", "region_city": "",
                                             "region_state": "", "region_country": "", "online_url": "https://v.example/x",
                                             "place_name": ""})

    assert response.status_code == 400 and "choose a time zone" in (field_error(response, "call-timezone") or "")
    assert await count_rows(a, StoredObject) == 0


async def test_a_call_without_coordinates_is_placed_and_appears_on_the_map(a: Instance, eddie: Browser) -> None:
    response = await eddie.submit(NEW, NEW, {**CALL, "latitude": "", "longitude": ""})
    assert response.status_code == 303

    row = await only_event(a)
    assert row.latitude is not None and row.longitude is not None
    assert round(row.latitude, 1) == 37.8 and round(row.longitude, 1) == -122.3  # Oakland, from the city
    page = (await a.get("/map", headers={"Accept": BROWSER})).text
    assert f'<a href="{row.uri}" class="map-point map-call"><title>Rally for rent control' in page


async def test_a_past_date_asks_for_confirmation_before_publishing(a: Instance, eddie: Browser) -> None:
    past = {**CALL, "start": "2020-03-14T11:00", "end": "2020-03-14T14:00"}

    response = await eddie.submit(NEW, NEW, past)

    assert response.status_code == 400
    assert "this date is in the past" in (field_error(response, "call-start") or "")
    assert 'name="past_ok"' in response.text and "Yes, this is in the past" in response.text
    assert await count_rows(a, StoredObject) == 0

    confirmed = await eddie.submit(NEW, NEW, {**past, "past_ok": "on"})
    assert confirmed.status_code == 303
    assert (await only_event(a)).name == "Rally for rent control"


async def test_the_online_geocoder_is_asked_for_a_street_address_and_its_failure_falls_back(
    a: Instance, eddie: Browser
) -> None:
    asked: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        return httpx.Response(500)

    geocoder = OnlineGeocoder("https://geocoder.test/search", "fedihub-test")
    a.app.state.geocoder = geocoder
    original = a.ctx.http
    a.ctx.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    try:
        response = await eddie.submit(NEW, NEW, {**CALL, "latitude": "", "longitude": ""})
    finally:
        await a.ctx.http.aclose()
        a.ctx.http = original
    assert response.status_code == 303
    assert len(asked) == 1 and asked[0].params["q"].startswith("1 Frank H Ogawa Plaza, Oakland")
    row = await only_event(a)
    assert row.latitude is not None and round(row.latitude, 1) == 37.8  # the gazetteer answered instead
