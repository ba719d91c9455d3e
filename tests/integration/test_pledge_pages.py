"""Pledging from the web: the form on call pages, local actions, withdrawal, report-back, refusal,
the roll-up every visitor sees and the AS2 pledges collection peers read."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import ensure_profile, set_movements
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.pledges.calls import get_call_target
from fedihub.storage.models import Actor, Pledge, StoredObject
from tests.integration.helpers import AS2, count_rows, path_of
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _call_input(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=7)
    return calls.CallInput(
        title="March for a $15 minimum wage", description="From the park to city hall.", start=start,
        end=start + timedelta(hours=2), timezone="America/Chicago", place_name="Grant Park",
    )


async def _coalition(
    instance: Instance, handle: str, name: str, state: str, movements: tuple[str, ...] = ("labor",)
) -> Actor:
    actor = await committed(instance.ctx, service.create_coalition, handle, name=name)
    async with instance.ctx.sessions.begin() as session:
        row = await session.get(Actor, actor.id)
        assert row is not None
        profile = ensure_profile(row)
        profile.region_state, profile.region_country = state, "US"
        await set_movements(session, row, list(movements))
    return actor


def _stat(page: str, name: str) -> str:
    found = re.search(rf'data-rollup="{name}">(.*?)<', page, re.S)
    assert found, f"no {name} figure on the page"
    return html.unescape(found.group(1)).strip()


def _pledge_form(start: str = "") -> dict[str, str]:
    return {"coalition": "fight15", "message": "Forty of us", "action_title": "Peoria picket" if start else "",
            "action_start": start, "action_timezone": "America/Chicago", "action_place": "Main St" if start else ""}


async def test_an_organizer_pledges_with_a_local_action_and_everyone_sees_the_rollup(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois", ("Labour", "FightFor15"))
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    page_path = path_of(call.uri)
    editor = await organizer(a, "pat", fight15, "editor")

    before = (await editor.get(page_path)).text
    assert "No coalition has pledged yet" in before and "Pledge Peoria Fight for 15" in before

    start = (call.start_time + timedelta(hours=1)).astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago"))
    response = await editor.submit(f"/pledge?call={call.uri}", "/pledge",
                                   {"call": call.uri, **_pledge_form(start.strftime("%Y-%m-%dT%H:%M"))})
    assert response.status_code == 303 and response.headers["location"].startswith(page_path)
    await net.settle()

    anonymous = (await a.get(page_path, headers={"accept": "text/html"})).text
    assert _stat(anonymous, "pledged") == "1" and _stat(anonymous, "actions") == "1"
    assert "Peoria picket" in anonymous and "Forty of us" in anonymous and "Illinois, US" in anonymous
    movements = re.findall(r'class="bar-label">([^<]*)<', html.unescape(anonymous))
    assert {"Labour and workers' rights", "#FightFor15"} <= set(movements), "movements read as labels, not raw tags"
    mine = (await editor.get(page_path)).text
    assert "Pledged</span>" in mine and "Withdraw" in mine
    # The local action is Peoria's own call to action, on its own page.
    async with a.ctx.sessions() as session:
        action = await session.scalar(select(StoredObject).where(StoredObject.name == "Peoria picket"))
    assert action is not None and action.attributed_to_id == fight15.id and action.data["superEvent"] == call.uri


async def test_a_half_filled_local_action_is_refused_and_nothing_is_sent(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    editor = await organizer(a, "pat", fight15, "editor")

    form = {**_pledge_form(), "call": call.uri, "action_title": "Peoria picket"}
    response = await editor.submit(f"/pledge?call={call.uri}", "/pledge", form)

    assert response.status_code == 400
    assert field_error(response, "pledge-action_start") == "Error: when does your local action start?"
    assert 'data-pledge="more-fields">' in response.text  # nothing typed in the folded fields: still folded
    assert 'value="Peoria picket"' in response.text  # what was typed stays in the form
    assert await count_rows(a, Pledge) == 0
    assert await count_rows(a, StoredObject, StoredObject.name == "Peoria picket") == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"action_latitude": "95", "action_longitude": "-89.6"}, "action_latitude",
         "latitude is a number from -90 to 90, like 41.88"),
        ({"action_latitude": "40.7"}, "action_longitude", "give the latitude and the longitude together, or neither"),
        ({"action_online_url": "javascript:alert(1)"}, "action_online_url",
         "the online link must be a web address starting with https://"),
        ({"action_end": "2020-01-01T10:00"}, "action_end", "your local action must end after it starts"),
    ],
)
async def test_a_local_actions_place_and_link_are_checked_and_nothing_is_sent(
    net: FederationNet, changes: dict[str, str], field: str, message: str
) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    editor = await organizer(a, "pat", fight15, "editor")
    start = (call.start_time + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    form = {**_pledge_form(start), "call": call.uri, "action_address": "Main St & 5th", **changes}
    response = await editor.submit(f"/pledge?call={call.uri}", "/pledge", form)

    assert response.status_code == 400
    assert field_error(response, f"pledge-{field}") == f"Error: {message}"
    assert 'value="Main St &amp; 5th"' in response.text  # what was typed stays in the form
    assert 'data-pledge="more-fields" open' in response.text  # the folded fields open on what went wrong
    assert await count_rows(a, Pledge) == 0
    assert await count_rows(a, StoredObject, StoredObject.name == "Peoria picket") == 0


async def test_a_local_action_with_its_full_shape_is_shown_under_the_call(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    editor = await organizer(a, "pat", fight15, "editor")
    start = call.start_time + timedelta(hours=1)
    zone = __import__("zoneinfo").ZoneInfo("America/Chicago")
    local = {"action_end": (start + timedelta(hours=2)).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
             "action_address": "Main St & 5th, Peoria", "action_latitude": "40,6936", "action_longitude": "-89.589",
             "action_online_url": "https://stream.example/peoria", "action_description": "Bring a sign."}

    form = {**_pledge_form(start.astimezone(zone).strftime("%Y-%m-%dT%H:%M")), "call": call.uri, **local}
    response = await editor.submit(f"/pledge?call={call.uri}", "/pledge", form)
    assert response.status_code == 303
    await net.settle()

    page = html.unescape((await a.get(path_of(call.uri), headers={"accept": "text/html"})).text)
    listed = page.split("<h3>Local actions</h3>", 1)[1].split("</ol>", 1)[0]
    assert "Main St, Main St & 5th, Peoria" in listed and "mlat=40.69360" in listed
    assert 'href="https://stream.example/peoria"' in listed and "Bring a sign." in listed
    # Its time, start to end, in its own zone.
    assert re.search(r"\d\d:\d\d – \d\d:\d\d</time> Chicago time \(C[DS]T\)", listed)
    # The action is the coalition's own Event: its calendar file carries the place and the point too.
    calendar = (await a.get("/g/fight15/calls.ics")).text.replace("\r\n ", "")
    assert "GEO:40.6936;-89.589" in calendar and "Main St & 5th\\, Peoria" in calendar


async def test_a_local_action_typed_without_coordinates_is_on_the_days_map(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    before = (await a.get(path_of(call.uri), headers={"accept": "text/html"})).text
    assert "day-map" not in before, "no map before a local action gives a place"

    editor = await organizer(a, "pat", fight15, "editor")
    start = (call.start_time + timedelta(hours=1)).astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago"))
    form = {**_pledge_form(start.strftime("%Y-%m-%dT%H:%M")), "call": call.uri,
            "action_address": "Main St & 5th, Peoria, IL"}
    assert (await editor.submit(f"/pledge?call={call.uri}", "/pledge", form)).status_code == 303
    await net.settle()

    async with a.ctx.sessions() as session:
        action = await session.scalar(select(StoredObject).where(StoredObject.name == "Peoria picket"))
    assert action is not None
    # Peoria, Illinois, found offline from the address: the picket is on the map, linking to its own page.
    assert action.latitude == pytest.approx(40.69, abs=0.05) and action.longitude == pytest.approx(-89.59, abs=0.05)
    page = html.unescape((await a.get(path_of(call.uri), headers={"accept": "text/html"})).text)
    day_map = page.split('<figure class="map-figure day-map">', 1)[1].split("</figure>", 1)[0]
    assert re.search(rf'<a href="{re.escape(action.uri)}" class="map-point map-action"><title>Peoria picket', day_map)
    assert "<path " in day_map, "the map has its outlines"


async def test_only_editors_of_a_coalition_pledge_for_it(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    other = await _coalition(a, "other", "Other Coalition", "Ohio")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    stranger = await organizer(a, "sam", other, "editor")

    response = await stranger.submit(f"/pledge?call={call.uri}", "/pledge", {"call": call.uri, **_pledge_form()})
    assert response.status_code == 400 and "cannot pledge for that coalition" in response.text
    assert await count_rows(a, Pledge) == 0
    anonymous = await a.get(f"/pledge?call={call.uri}", headers={"accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]


async def test_withdraw_then_report_and_refuse(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    chicago = await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    fight15 = await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    union = await _coalition(a, "union", "Rockford Union", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    page_path = path_of(call.uri)
    pat = await organizer(a, "pat", fight15, "editor")
    uma = await organizer(a, "uma", union, "editor")
    for browser, handle in ((pat, "fight15"), (uma, "union")):
        response = await browser.submit(page_path, "/pledge", {"call": call.uri, **_pledge_form(), "coalition": handle})
        assert response.status_code == 303
    await net.settle()
    assert _stat((await pat.get(page_path)).text, "pledged") == "2"

    # Rockford withdraws.
    response = await uma.submit(page_path, "/pledge/withdraw", {"call": call.uri, "coalition": "union"})
    assert response.status_code == 303
    await net.settle()
    assert _stat((await pat.get(page_path)).text, "pledged") == "1"

    # After the march Peoria reports back.
    net.clock.advance(days=8)
    report_page = f"/pledge/report?call={call.uri}&coalition=fight15"
    bad = await pat.submit(report_page, "/pledge/report", {"call": call.uri, "coalition": "fight15", "turnout": "many"})
    assert bad.status_code == 400 and field_error(bad, "report-happened")
    good = await pat.submit(report_page, "/pledge/report", {"call": call.uri, "coalition": "fight15",
                                                             "happened": "yes", "turnout": "1,200"})
    assert good.status_code == 303
    await net.settle()
    page = (await a.get(page_path, headers={"accept": "text/html"})).text
    line = " ".join(re.sub(r"<[^>]+>", "", page.split('data-rollup="report-line">', 1)[1].split("</p>", 1)[0]).split())
    assert line == "1 of 1 local action happened, with about 1,200 people."
    assert _stat(page, "turnout") == "1,200"

    # Chicago's admin refuses Peoria's pledge; an editor of Peoria may not refuse anything.
    refused = await pat.submit(page_path, "/pledge/refuse", {"call": call.uri, "pledger": fight15.uri})
    assert refused.status_code == 403, re.findall(r"<p[^>]*>(.*?)</p>", refused.text)
    admin = await organizer(a, "ada", chicago, "admin")
    refusal = await admin.submit(page_path, "/pledge/refuse", {"call": call.uri, "pledger": fight15.uri})
    assert refusal.status_code == 303
    await net.settle()
    assert "No coalition has pledged yet" in (await a.get(page_path, headers={"accept": "text/html"})).text
    async with a.ctx.sessions() as session:
        row = await session.scalar(select(Pledge).where(Pledge.coalition_uri == fight15.uri))
    assert row is not None and row.state == "rejected"


async def test_the_pledges_collection_is_what_peers_read(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    await _coalition(b, "fight15", "Peoria Fight for 15", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    from fedihub.pledges import service as pledges

    await committed(b.ctx, pledges.pledge, "fight15", await get_call_target(b.ctx, call.uri), message="Forty of us")
    await net.settle()

    head = (await a.get(f"{path_of(call.uri)}/pledges", headers={"accept": AS2})).json()
    assert (head["type"], head["totalItems"], head["pledgesOf"]) == ("OrderedCollection", 1, call.uri)
    page = (await a.get(head["first"].replace("http://a.test", ""), headers={"accept": AS2})).json()
    [item] = page["orderedItems"]
    assert item["type"] == "Join" and item["actor"]["id"] == "http://b.test/g/fight15"
    assert item["participationMessage"] == "Forty of us"
    event = (await a.get(path_of(call.uri), headers={"accept": AS2})).json()
    assert event["pledges"] == head["id"] and event["participantCount"] == 1
    assert (await a.get(f"{path_of(call.uri)}/pledges?page=0", headers={"accept": AS2})).status_code == 400
    assert item["vouched"] is False and head["vouchedItems"] == 0
    # The pledging server shows the same roll-up on its page for the remote call: unvouched, apart.
    remote_page = (await b.get(f"/calls/view?url={call.uri}", headers={"accept": "text/html"})).text
    assert (_stat(remote_page, "pledged"), _stat(remote_page, "unvouched")) == ("0", "1")


async def test_a_hub_page_shows_the_rollup_of_the_calls_it_carries(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    await committed(s.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    await committed(s.ctx, hubs.add_member, "illinois", await resolve_target(s.ctx, "chicago@a.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "chicago", _call_input(net))
    await net.settle()
    from fedihub.pledges import service as pledges

    await committed(a.ctx, pledges.pledge, "fight15", await get_call_target(a.ctx, call.uri))
    await net.settle()

    page = (await s.get("/g/illinois", headers={"accept": "text/html"})).text
    assert "Calls this hub carries" in page and "March for a $15 minimum wage" in html.unescape(page)
    line = page.split('data-rollup="hub-line">', 1)[1].split("</p>", 1)[0]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", line)).split())
    assert text == "1 coalition pledged · 1 region: Illinois, US (1)"
