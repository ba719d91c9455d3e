"""Calendar feeds as a calendar app reads them: a coalition's, the instance's and filtered ones,
parsed back with the icalendar package."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from fedihub.coalitions import calls, service
from fedihub.storage.models import Actor
from tests.integration.feed_helpers import NOW, by_uid, call_input, events_of, post_call, remote_call
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    net.clock = Clock(NOW)
    return await net.add_instance("a.test", instance_name="Midwest Coalitions")


async def test_a_coalition_calendar_lists_its_calls_with_stable_uids_zones_and_places(
    a: Instance, tenants: Actor
) -> None:
    # 14 March 2027 is the Sunday US clocks go forward at 2:00: the vigil starts in CST, ends in CDT.
    call = await post_call(a, "tenants", start=datetime(2027, 3, 14, 1, 0, tzinfo=CHICAGO),
                           end=datetime(2027, 3, 14, 5, 0, tzinfo=CHICAGO), latitude=41.8837, longitude=-87.6298)
    other = await committed(a.ctx, service.create_coalition, "climate", name="Climate Now")
    await post_call(a, other.local_username or "climate", title="Not a tenants call")

    response = await a.get("/g/tenants/calls.ics")

    events = by_uid(response)
    assert list(events) == [call.uri]
    event = events[call.uri]
    assert str(event["SUMMARY"]) == "Rent control now"
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.replace(tzinfo=None) == datetime(2027, 3, 14, 1)
    assert end.replace(tzinfo=None) == datetime(2027, 3, 14, 5)
    assert (start.utcoffset(), end.utcoffset()) == (timedelta(hours=-6), timedelta(hours=-5))
    assert str(event["LOCATION"]) == "Daley Plaza, 50 W Washington St, Chicago"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (41.8837, -87.6298)
    assert str(event["URL"]) == call.uri and str(event["STATUS"]) == "CONFIRMED"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["housing"]
    assert event["ORGANIZER"].params["CN"] == "Tenants Union"
    assert "Rally at city hall." in str(event["DESCRIPTION"])
    [zone] = icalendar.Calendar.from_ical(response.text).walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Chicago"
    daylight = [c["TZOFFSETTO"].td for c in zone.walk("DAYLIGHT")]
    assert daylight and all(offset == timedelta(hours=-5) for offset in daylight)
    assert "X-WR-CALNAME:Tenants Union: calls to action" in response.text


async def test_uids_stay_the_same_across_requests_and_edits_while_sequence_grows(
    a: Instance, net: FederationNet, tenants: Actor
) -> None:
    call = await post_call(a, "tenants")
    first = by_uid(await a.get("/g/tenants/calls.ics"))[call.uri]
    assert by_uid(await a.get("/g/tenants/calls.ics"))[call.uri].to_ical() == first.to_ical()

    net.clock.advance(hours=2)
    await committed(
        a.ctx, calls.update_call, call.uri, call_input(title="Rent control now, moved indoors", place_name="Library")
    )
    edited = by_uid(await a.get("/g/tenants/calls.ics"))[call.uri]
    net.clock.advance(hours=1)
    await committed(a.ctx, calls.cancel_call, call.uri, "Storm warning")
    cancelled = by_uid(await a.get("/g/tenants/calls.ics"))[call.uri]

    assert str(edited["SUMMARY"]) == "Rent control now, moved indoors"
    assert int(first["SEQUENCE"]) < int(edited["SEQUENCE"]) < int(cancelled["SEQUENCE"])
    assert edited.decoded("LAST-MODIFIED") == NOW + timedelta(hours=2)
    assert str(cancelled["STATUS"]) == "CANCELLED"


async def test_recent_past_calls_stay_in_the_calendar_older_and_deleted_ones_leave(
    a: Instance, net: FederationNet, tenants: Actor
) -> None:
    net.clock = a.ctx.clock  # the instance's clock: moved below to post calls "in the past"
    recent = await post_call(a, "tenants", title="Last week", start=NOW - timedelta(days=7))
    old = await post_call(a, "tenants", title="Last autumn", start=NOW - timedelta(days=120))
    gone = await post_call(a, "tenants", title="Deleted")
    soon = await post_call(a, "tenants", title="Soon", start=NOW + timedelta(days=1))
    await committed(a.ctx, service.delete_object, gone.uri)

    uids = list(by_uid(await a.get("/g/tenants/calls.ics")))

    assert uids == [recent.uri, soon.uri]
    assert old.uri not in uids


@pytest.mark.all_backends  # the movement filter is per-database JSON SQL
async def test_the_instance_calendar_has_local_and_remote_calls_and_filters_like_the_directory(
    a: Instance, tenants: Actor
) -> None:
    chicago = await post_call(a, "tenants")
    climate = await post_call(a, "tenants", title="Climate strike", movements=["climate"], region_state="Illinois")
    la = await remote_call(a, "https://other.example/o/1", movements=["Housing"], region_state="California")
    await remote_call(a, "https://other.example/o/2", visibility="unlisted", name="Unlisted elsewhere")

    everything = by_uid(await a.get("/calls.ics"))
    housing = by_uid(await a.get("/calls.ics?movement=housing"))
    illinois_housing = by_uid(await a.get("/calls.ics?movement=%23HOUSING&region=illinois&color=blue"))
    nothing = await a.get("/calls.ics?movement=knitting")

    assert set(everything) == {chicago.uri, climate.uri, la.uri}
    assert set(housing) == {chicago.uri, la.uri}
    assert set(illinois_housing) == {chicago.uri}
    assert events_of(nothing) == [] and "BEGIN:VCALENDAR" in nothing.text
    named = (await a.get("/calls.ics?movement=housing&region=illinois")).text
    assert "\r\nNAME:Midwest Coalitions: calls to action (housing\\, illinois)\r\n" in named


@pytest.mark.all_backends  # the movement filter is per-database JSON SQL
async def test_a_movement_typed_in_words_is_found_by_its_hashtag_as_followers_find_it(
    a: Instance, tenants: Actor
) -> None:
    # Followers' servers receive #RentStrike (the Event's Hashtag); this server's own filter agrees.
    strike = await post_call(a, "tenants", title="Rent strike assembly", movements=["rent strike"])

    for spelling in ("RentStrike", "%23rentstrike", "rent%20strike", "Rent-Strike"):
        assert set(by_uid(await a.get(f"/calls.ics?movement={spelling}"))) == {strike.uri}, spelling
    assert strike.movements == ["RentStrike"] and strike.data["tag"] == [{"type": "Hashtag", "name": "#RentStrike"}]


async def test_bad_filters_are_refused_and_unknown_names_are_404(a: Instance, tenants: Actor) -> None:
    assert (await a.get("/calls.ics?region=" + "x" * 201)).status_code == 400
    assert (await a.get("/calls.ics?movement=" + "x" * 101)).status_code == 400
    assert (await a.get("/calls.ics?coalition=nobody")).status_code == 404
    assert (await a.get("/g/nobody/calls.ics")).status_code == 404
    assert (await a.get("/g/nobody/feed.atom")).status_code == 404
    assert (await a.get("/calls.ics?coalition=tenants")).status_code == 200


async def test_feeds_are_cacheable_and_revalidate_with_their_etag(a: Instance, tenants: Actor) -> None:
    await post_call(a, "tenants")
    first = await a.get("/g/tenants/calls.ics")

    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["access-control-allow-origin"] == "*"
    again = await a.get("/g/tenants/calls.ics", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    await post_call(a, "tenants", title="Another")
    changed = await a.get("/g/tenants/calls.ics", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


async def test_remote_text_cannot_add_events_or_properties_to_the_instance_calendar(a: Instance) -> None:
    hostile = "Picnic\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:Injected\r\nEND:VEVENT"
    long_text = "Grève générale ✊ manifestation unitaire — " * 40
    await remote_call(
        a, "https://other.example/o/evil", name=hostile, content=f"<p>{long_text}</p><p>a;b,c\\d\x07\x1b</p>",
        location_name="Park\rSTATUS:CANCELLED\nX-EVIL:1", online_url="https://x.example/\r\nURL:javascript:1",
        author="https://other.example/g/evil", movements=["a,b", "c;d\r\nX-TAG:1"],
    )

    response = await a.get("/calls.ics")

    lines = response.text.split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert all(len(line.encode()) <= 75 for line in lines)
    smuggled = ("UID:evil", "X-EVIL", "STATUS:CANCELLED", "X-TAG", "URL:javascript")
    assert not any(line.startswith(smuggled) for line in lines)
    [event] = events_of(response)
    assert str(event["SUMMARY"]) == hostile.replace("\r\n", "\n")
    assert str(event["LOCATION"]) == "Park\nSTATUS:CANCELLED\nX-EVIL:1"
    assert long_text.strip() in str(event["DESCRIPTION"]) and "a;b,c\\d" in str(event["DESCRIPTION"])
    assert "\x07" not in str(event["DESCRIPTION"])
    assert [str(c) for c in event["CATEGORIES"].cats] == ["a,b", "c;d\nX-TAG:1"]
    assert str(event["STATUS"]) == "CONFIRMED"

