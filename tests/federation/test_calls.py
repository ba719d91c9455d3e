"""Calls to action between servers: a call, its edit, cancellation and deletion reach a follower's
server as an Event with its time and place; Events from Mobilizon, Gancio and WordPress are read too."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fedihub.cli import main
from fedihub.coalitions import calls, service
from fedihub.errors import Conflict, NotFound
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import StoredObject
from tests.integration.helpers import follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import add_fake_peer
from tests.support.following import climate_followed_by_hub
from tests.support.network import FederationNet, Instance

AS2 = {"Accept": "application/activity+json"}


def rally_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "title": "Rally for transit funding",
        "description": "Bring **signs**; we march to the Transit Board at noon.",
        # 29 March 2030 is the last Friday before summer time in Europe, so the
        # edit below moves the call across the change from +01:00 to +02:00.
        "start": "2030-03-29T11:00",
        "end": "2030-03-29T14:00",
        "timezone": "Europe/Berlin",
        "place_name": "Rotes Rathaus",
        "address": "Rathausstraße 15",
        "online_url": "https://stream.example/transit",
        "movements": ["climate", "Black Lives Matter"],
        "region_city": "Berlin",
        "region_country": "DE",
        "latitude": "52.5186",
        "longitude": "13.4081",
    }
    fields.update(overrides)
    return fields


async def stored(instance: Instance, uri: str) -> StoredObject | None:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject).where(StoredObject.uri == uri))


async def replies_to(instance: Instance, uri: str) -> list[StoredObject]:
    async with instance.ctx.sessions() as session:
        query = select(StoredObject).where(StoredObject.in_reply_to == uri).order_by(StoredObject.id)
        return list((await session.scalars(query)).all())


async def test_a_call_reaches_a_follower_on_another_server_as_an_event(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)

    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form()))
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None and there.type == "Event" and not there.is_local
    assert there.name == "Rally for transit funding"
    assert there.start_time == datetime(2030, 3, 29, 10, 0, tzinfo=UTC)
    assert there.end_time == datetime(2030, 3, 29, 13, 0, tzinfo=UTC)
    assert there.timezone == "Europe/Berlin"
    assert (there.location_name, there.location_address) == ("Rotes Rathaus", "Rathausstraße 15")
    assert (there.region_city, there.region_state, there.region_country) == ("Berlin", None, "DE")
    assert (there.latitude, there.longitude) == (52.5186, 13.4081)
    assert there.online_url == "https://stream.example/transit"
    assert there.event_status == "CONFIRMED"
    assert there.movements == ["Climate", "BlackLivesMatter"]  # as the hashtags Mastodon links
    assert "<strong>signs</strong>" in (there.content or "")
    assert "Friday 29 March 2030, 11:00–14:00 CET (Europe/Berlin)" in (there.summary or "")
    assert there.url == call.uri and there.visibility == "public"

    # The document itself, as the follower's server received it.
    event = there.data
    assert event["startTime"] == "2030-03-29T11:00:00+01:00" and event["endTime"] == "2030-03-29T14:00:00+01:00"
    assert event["location"]["type"] == "Place" and event["location"]["address"]["type"] == "PostalAddress"
    website = {"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://stream.example/transit"}
    assert website in event["attachment"]
    assert (event["eventStatus"], event["status"], event["joinMode"]) == ("EventScheduled", "CONFIRMED", "free")
    assert (event["pledges"], event["participantCount"]) == (f"{call.uri}/pledges", 0)
    assert event["category"] == "MOVEMENTS_POLITICS"
    assert event["attributedTo"] == f"{a.base_url}/g/climate" and "actor" not in event
    assert event["to"] == [PUBLIC] and event["cc"] == [f"{a.base_url}/g/climate/followers"]

    # It is listed with the follower's upcoming calls, and its id serves the same Event.
    async with b.ctx.sessions() as session:
        upcoming = await calls.upcoming_calls(session, now=datetime(2030, 1, 1, tzinfo=UTC))
        past = await calls.past_calls(session, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert [row.uri for row in upcoming] == [call.uri] and past == []
    served = await a.get(call.uri.removeprefix(a.base_url), headers=AS2)
    assert served.status_code == 200
    assert {key: value for key, value in served.json().items() if key != "@context"} == event


async def test_an_edit_reaches_the_follower_with_a_reply_saying_what_changed(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form()))
    await net.settle()

    edited = rally_form(
        title="Rally for transit funding: new place", start="2030-03-31T11:00", end="2030-03-31T15:00",
        place_name="Alexanderplatz", address="", online_url="", latitude="", longitude="",
    )
    await committed(a.ctx, calls.update_call, call.uri, calls.parse_call_form(edited))
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None and there.name == "Rally for transit funding: new place"
    assert there.start_time == datetime(2030, 3, 31, 9, 0, tzinfo=UTC)  # summer time now: +02:00
    assert there.data["startTime"] == "2030-03-31T11:00:00+02:00"
    assert there.location_name == "Alexanderplatz" and there.location_address is None
    assert there.online_url is None and there.latitude is None
    assert there.event_status == "CONFIRMED" and there.updated is not None

    # Mastodon ignores an Event's Update: the reply is what its users see under the call.
    [reply] = await replies_to(b, call.uri)
    assert reply.type == "Note" and reply.visibility == "public"
    text = reply.content or ""
    assert "New time: Sunday 31 March 2030, 11:00–15:00 CEST (Europe/Berlin)" in text
    assert "New place: Alexanderplatz, Berlin, DE" in text
    assert "No longer online." in text
    assert "Renamed from “Rally for transit funding”." in text

    # A change Mastodon never showed (the description) updates the Event without a reply.
    await committed(
        a.ctx, calls.update_call, call.uri, calls.parse_call_form({**edited, "description": "Bring water."})
    )
    await net.settle()
    assert "Bring water." in ((await stored(b, call.uri)).content or "")  # type: ignore[union-attr]
    assert len(await replies_to(b, call.uri)) == 1


async def test_a_cancellation_marks_the_call_cancelled_there_and_it_stays_visible(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form()))
    await net.settle()

    await committed(a.ctx, calls.cancel_call, call.uri, reason="The city refused the permit.")
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None and there.deleted_at is None
    assert there.event_status == "CANCELLED"
    assert (there.data["status"], there.data["eventStatus"]) == ("CANCELLED", "EventCancelled")
    assert (there.summary or "").startswith("<p><strong>CANCELLED</strong></p><p>The city refused the permit.</p>")
    [reply] = await replies_to(b, call.uri)
    assert "Cancelled:" in (reply.content or "") and "The city refused the permit." in (reply.content or "")
    async with b.ctx.sessions() as session:  # still listed, marked cancelled
        upcoming = await calls.upcoming_calls(session, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert [row.uri for row in upcoming] == [call.uri]

    with pytest.raises(Conflict, match="already cancelled"):
        await committed(a.ctx, calls.cancel_call, call.uri)


async def test_a_deleted_call_is_tombstoned_there(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form()))
    await net.settle()

    await committed(a.ctx, service.delete_object, call.uri)
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None and there.deleted_at is not None
    gone = await a.get(call.uri.removeprefix(a.base_url), headers=AS2)
    assert gone.status_code == 410 and gone.json()["formerType"] == "Event"
    async with b.ctx.sessions() as session:
        assert await calls.upcoming_calls(session, now=datetime(2030, 1, 1, tzinfo=UTC)) == []
    with pytest.raises(NotFound):  # nothing left to edit or cancel
        await committed(a.ctx, calls.update_call, call.uri, calls.parse_call_form(rally_form()))
    with pytest.raises(NotFound):
        await committed(a.ctx, calls.cancel_call, call.uri)


# --- Events from other software ---------------------------------------------------------------------

FIXTURE_EVENTS: dict[str, dict[str, Any]] = {
    "mobilizon/event.json": dict(
        start=datetime(2022, 12, 11, 19, 0, tzinfo=UTC), end=datetime(2022, 12, 11, 21, 0, tzinfo=UTC),
        timezone="Europe/London", location_name="The Kenn Centre", location_address="Devon Expressway, EX6 7TW",
        region=("Teignbridge", "England", "United Kingdom"), coordinates=(50.66881615, -3.537739788359949),
        online_url=None, status="CONFIRMED", movements=["Dance", "Caledonian", "Lesson"],
    ),
    # Mobilizon 1.0-beta: `geo` coordinates (swapped in the source data; stored as sent), no timezone.
    "mobilizon/event_2019_geo.json": dict(
        start=datetime(2019, 12, 18, 13, 0, tzinfo=UTC), end=datetime(2019, 12, 18, 14, 0, tzinfo=UTC),
        timezone="UTC", location_name="Cour du Château des Ducs de Bretagne", location_address=None,
        region=("Nantes", "Pays de la Loire", "France"), coordinates=(-1.54939699141711, 47.21617415),
        online_url=None, status="CONFIRMED", movements=["Mobilizon", "Federation", "ActivityPub", "Party"],
    ),
    # Gancio sends no timezone: the offset of its times becomes a fixed zone (Etc/GMT-2 is UTC+2).
    "gancio/event.json": dict(
        start=datetime(2021, 7, 14, 15, 30, 57, tzinfo=UTC), end=datetime(2021, 7, 14, 16, 30, 57, tzinfo=UTC),
        timezone="Etc/GMT-2", location_name="Colosseo", location_address="Piazza del Colosseo, Rome",
        region=(None, None, None), coordinates=(None, None), online_url=None, status="CONFIRMED", movements=["test"],
    ),
    "gancio/create_event.json": dict(
        start=datetime(2021, 7, 14, 15, 30, 57, tzinfo=UTC), end=datetime(2021, 7, 14, 16, 30, 57, tzinfo=UTC),
        timezone="Etc/GMT-2", location_name="Colosseo", location_address=None,
        region=(None, None, None), coordinates=(None, None), online_url=None, status="CONFIRMED", movements=["test"],
    ),
    "wordpress/event.json": dict(
        start=datetime(2025, 2, 27, 7, 0, tzinfo=UTC), end=datetime(2025, 2, 27, 16, 0, tzinfo=UTC),
        timezone="Europe/Vienna", location_name="Morelli", location_address="Morelli, 8010",
        region=("Graz", None, "Austria"), coordinates=(None, None), online_url=None, status="CONFIRMED",
        movements=["Musik"],
    ),
}

# FEP-8a8e's hybrid shape: a list of a Place (string address) and a VirtualLocation, and eventStatus.
FEP_HYBRID = {
    "type": "Event", "name": "Discussion about the Fediverse", "startTime": "2030-12-31T23:00:00-08:00",
    "endTime": "2031-01-01T04:00:00-08:00", "timezone": "America/Los_Angeles",
    "eventStatus": "https://w3id.org/fep/8a8e/EventCancelled",
    "location": [
        {"type": "Place", "name": "Fediverse University", "address": "15 Fediverse Street, 1337 Fediverse Town"},
        {"type": "VirtualLocation", "name": "Big Blue Button", "url": "https://bbb.example.com/meeting-room-1"},
        {"type": "VirtualLocation", "name": "Live Stream", "url": "javascript:alert(1)"},
    ],
}


def as_sent_by(event: dict[str, Any], account_id: str, followers: str, object_id: str) -> dict[str, Any]:
    """The captured Event re-addressed to come from the fake peer's account, wrapped in a Create."""
    event = copy.deepcopy(event.get("object", event))  # gancio/create_event.json is a whole Create
    event.pop("@context", None)
    event.update(id=object_id, attributedTo=account_id, to=[PUBLIC], cc=[followers])
    if "actor" in event:
        event["actor"] = account_id  # Mobilizon's organizer property, here the same account
    return {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"{object_id}#create", "type": "Create",
        "actor": account_id, "to": [PUBLIC], "cc": [followers], "object": event,
    }


@pytest.mark.parametrize("fixture", [*FIXTURE_EVENTS, "fep-8a8e hybrid"])
async def test_events_from_calendar_servers_are_stored_with_time_and_place(
    net: FederationNet, fixtures_dir: Path, fixture: str
) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "hub", name="Regional hub")
    peer = add_fake_peer(net, "events.test", fixtures_dir, usernames=("calendar",))
    calendar = peer.accounts["calendar"]
    await follow_peer(net, a, peer, "hub", calendar)
    captured = FEP_HYBRID if fixture == "fep-8a8e hybrid" else json.loads((fixtures_dir / fixture).read_text())
    create = as_sent_by(captured, calendar.id, calendar.followers, peer.new_id(calendar))

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    row = await stored(a, create["object"]["id"])
    assert row is not None and row.type == "Event"
    if fixture == "fep-8a8e hybrid":
        assert row.start_time == datetime(2031, 1, 1, 7, 0, tzinfo=UTC) and row.timezone == "America/Los_Angeles"
        assert row.location_name == "Fediverse University"
        assert row.location_address == "15 Fediverse Street, 1337 Fediverse Town"
        assert row.online_url == "https://bbb.example.com/meeting-room-1"
        assert row.event_status == "CANCELLED"
        return
    expected = FIXTURE_EVENTS[fixture]
    assert (row.start_time, row.end_time, row.timezone) == (expected["start"], expected["end"], expected["timezone"])
    assert (row.location_name, row.location_address) == (expected["location_name"], expected["location_address"])
    assert (row.region_city, row.region_state, row.region_country) == expected["region"]
    assert (row.latitude, row.longitude) == expected["coordinates"]
    assert row.online_url == expected["online_url"] and row.event_status == expected["status"]
    assert row.movements == expected["movements"]


async def test_a_mobilizon_online_event_gives_its_website_link(net: FederationNet, fixtures_dir: Path) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "hub", name="Regional hub")
    peer = add_fake_peer(net, "events.test", fixtures_dir, usernames=("calendar",))
    calendar = peer.accounts["calendar"]
    await follow_peer(net, a, peer, "hub", calendar)
    event = json.loads((fixtures_dir / "mobilizon/event.json").read_text())
    del event["location"]
    event["isOnline"] = True
    event["ical:status"] = "CANCELLED"
    event["attachment"].append(
        {"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://meet.example/ceilidh"}
    )
    create = as_sent_by(event, calendar.id, calendar.followers, peer.new_id(calendar))

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    row = await stored(a, create["object"]["id"])
    assert row is not None and row.online_url == "https://meet.example/ceilidh"
    assert row.location_name is None and row.event_status == "CANCELLED"


# --- The same from the command line -----------------------------------------------------------------


def test_the_cli_publishes_and_cancels_a_call(tmp_path: Path) -> None:
    env = {
        "FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_BASE_URL": "http://coalitions.test",
        "FEDIHUB_LOG_LEVEL": "WARNING", "FEDIHUB_DATABASE_URL": "",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    assert runner.invoke(main, ["coalition", "create", "climate", "--name", "Climate"], env=env).exit_code == 0

    created = runner.invoke(main, [
        "call", "create", "climate", "--title", "Die-in at the ministry", "--start", "2030-06-05T12:00",
        "--end", "2030-06-05T13:30", "--timezone", "Europe/Paris", "--place", "Ministère de la Transition écologique",
        "--address", "246 boulevard Saint-Germain", "--movement", "climate", "--movement", "Extinction Rebellion",
        "--description", "Wear **black**.",
    ], env=env)
    assert created.exit_code == 0, created.output
    url = created.stdout.strip()
    assert url.startswith("http://coalitions.test/o/")

    cancelled = runner.invoke(main, ["call", "cancel", url, "--reason", "Banned by the prefecture."], env=env)
    assert cancelled.exit_code == 0 and cancelled.stdout.strip() == f"cancelled {url}"

    bad = runner.invoke(main, ["call", "create", "climate", "--title", "X", "--start", "2030-06-05T12:00",
                               "--timezone", "Europe/Pariss", "--place", "Somewhere"], env=env)
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["error: 'Europe/Pariss' is not a time zone we know, e.g. Europe/Paris"]
    again = runner.invoke(main, ["call", "cancel", url], env=env)
    assert again.exit_code == 1 and again.stderr.splitlines() == ["error: this call is already cancelled"]
