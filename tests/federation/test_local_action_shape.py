"""A local action with the full shape of a call (end, address, coordinates, online link, description):
sent in the Join and the coalition's own Event, read back from a fedihub peer and from a Mobilizon-shaped
one, shown on the call page at the origin and on a copy elsewhere, and a hostile peer's values refused."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.federation.objects import find_object
from fedihub.pledges import origin
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.local_action import LocalActionInput
from fedihub.protocol.pledges import PLEDGE_CONTEXT
from fedihub.storage.models import InboxItem, Pledge, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="National day for rent control", description="Everywhere.", start=start,
        end=start + timedelta(hours=3), timezone="America/Chicago", place_name="Daley Plaza",
    )


def _action(net: FederationNet) -> LocalActionInput:
    start = net.clock() + timedelta(days=10, hours=1)
    return LocalActionInput(
        title="Springfield rally", start=start, end=start + timedelta(hours=2), timezone="America/Chicago",
        place="State Capitol", address="2 E Capitol Ave, Springfield", latitude=39.798, longitude=-89.654,
        online_url="https://stream.example/live", description="Bring signs.\n\nWater is provided.",
    )


async def _approve(ctx: Any, session: Any, call_uri: str, coalition_uri: str) -> None:
    call = await find_object(session, call_uri)
    assert call is not None
    await origin.approve_pledge(ctx, session, call, coalition_uri)


async def _page(instance: Instance, path: str) -> str:
    return html.unescape((await instance.get(path, headers={"accept": "text/html"})).text)


async def _row(instance: Instance, call_uri: str) -> Pledge:
    async with instance.ctx.sessions() as session:
        row = await session.scalar(select(Pledge).where(Pledge.call_uri == call_uri, Pledge.state == "accepted"))
    assert row is not None
    return row


async def test_a_full_local_action_crosses_servers_and_every_copy_shows_it(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    await committed(a.ctx, service.create_coalition, "chicago", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    # c shows the call because one of its coalitions follows the calling one.
    await committed(c.ctx, service.create_coalition, "watchers", name="Peoria Watchers")
    await committed(c.ctx, follows.follow, "watchers", await resolve_target(c.ctx, "chicago@a.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "chicago", _call(net))
    await net.settle()

    action = _action(net)
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri), action=action)
    await net.settle()
    await committed(a.ctx, _approve, call.uri, "http://b.test/g/renters")
    await net.settle()

    # What the origin received: the Join's localAction in the shape of a call.
    async with a.ctx.sessions() as session:
        [join] = [item.payload for item in (await session.scalars(
            select(InboxItem).where(InboxItem.activity_type == "Join"))).all()]
    async with b.ctx.sessions() as session:
        event = await session.scalar(select(StoredObject).where(StoredObject.name == "Springfield rally"))
    sent = join["localAction"]
    # Times in the action's own offset (Chicago in winter), as a call's are.
    assert sent["startTime"].endswith("-06:00") and sent["endTime"].endswith("-06:00")
    assert datetime.fromisoformat(sent["endTime"]) - datetime.fromisoformat(sent["startTime"]) == timedelta(hours=2)
    assert datetime.fromisoformat(sent["startTime"]) == action.start.replace(microsecond=0)
    assert sent["location"]["address"] == {"type": "PostalAddress", "streetAddress": "2 E Capitol Ave, Springfield"}
    assert (sent["location"]["latitude"], sent["location"]["longitude"]) == (39.798, -89.654)
    assert sent["attachment"][0]["href"] == "https://stream.example/live"
    assert sent["content"] == "<p>Bring signs.</p><p>Water is provided.</p>"
    # The coalition's own Event (an Event of its own, linked to the call) carries the same.
    assert event is not None and event.data["superEvent"] == call.uri
    assert (event.location_address, event.latitude, event.online_url) == (
        "2 E Capitol Ave, Springfield", 39.798, "https://stream.example/live"
    )

    at_origin = await _row(a, call.uri)
    assert (at_origin.action_address, at_origin.action_latitude, at_origin.action_online_url) == (
        "2 E Capitol Ave, Springfield", 39.798, "https://stream.example/live"
    )
    page = await _page(a, call.uri.replace("http://a.test", ""))
    local = page.split("<h3>Local actions</h3>", 1)[1].split("</ol>", 1)[0]
    assert "State Capitol, 2 E Capitol Ave, Springfield" in local and "mlat=39.79800" in local
    assert 'href="https://stream.example/live"' in local and "Bring signs." in local

    # A third server's copy of the call: kept from the origin's notices, confirmed with the coalition's server.
    view = f"/calls/view?url={quote(call.uri, safe='')}"
    copy = await _row(c, call.uri)
    assert copy.source == "origin"
    assert (copy.action_end, copy.action_address, copy.action_longitude, copy.action_description) == (
        at_origin.action_end, "2 E Capitol Ave, Springfield", -89.654, "Bring signs.\n\nWater is provided."
    )
    copied = await _page(c, view)
    assert "State Capitol, 2 E Capitol Ave, Springfield" in copied and 'href="https://stream.example/live"' in copied


async def _mobilizon_group(net: FederationNet, fixtures_dir: Path) -> tuple[Instance, FakePeer, FakeAccount, Any]:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "chicago", name="Chicago Tenants")
    call = await committed(a.ctx, calls.publish_call, "chicago", _call(net))
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collectif",))
    person_document = peer.actor_document
    peer.actor_document = lambda acct: {**person_document(acct), "type": "Group"}  # type: ignore[method-assign]
    return a, peer, peer.accounts["collectif"], call


def _join(fixtures_dir: Path, peer: FakePeer, group: FakeAccount, call_uri: str, action: dict[str, Any]) -> dict:
    join = json.loads((fixtures_dir / "mobilizon" / "join_event.json").read_text())
    join.update(id=peer.new_id(group), actor=group.id, object=call_uri, localAction=action)
    # Our term for it (docs/federation/pledges.md): without it a JSON-LD reader drops the key.
    join["@context"] = [*join["@context"], *PLEDGE_CONTEXT[1:]]
    return join


async def test_a_mobilizon_shaped_local_action_is_read_with_its_place_and_times(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a, peer, group, call = await _mobilizon_group(net, fixtures_dir)
    event = json.loads((fixtures_dir / "mobilizon" / "event.json").read_text())
    # Embedded, the Event shares the Join's context (its own sets a default language, under which
    # JSON-LD would turn its name into a nameMap).
    del event["@context"]
    start = call.start_time + timedelta(hours=1)
    event.update(id="http://mobilizon.test/events/kenn", url="http://mobilizon.test/events/kenn",
                 startTime=start.isoformat(), endTime=(start + timedelta(hours=2)).isoformat())

    assert (await peer.send(a, _join(fixtures_dir, peer, group, call.uri, event))).status_code == 202
    await net.settle()

    row = await _row(a, call.uri)
    assert (row.action_name, row.action_place, row.action_timezone) == (
        "Caledonian scottish dance class", "The Kenn Centre", "Europe/London"
    )
    assert row.action_address == "Devon Expressway, EX6 7TW, Teignbridge, England, United Kingdom"
    assert (row.action_latitude, row.action_longitude) == (50.66881615, -3.537739788359949)
    assert row.action_end is not None and row.action_end - row.action_start == timedelta(hours=2)  # type: ignore[operator]
    assert row.action_description is not None and row.action_description.startswith("£6 each.")


async def test_a_hostile_peers_local_action_is_cut_to_size_and_its_bad_values_refused(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a, peer, group, call = await _mobilizon_group(net, fixtures_dir)
    start = call.start_time + timedelta(hours=1)
    hostile = {
        "id": "http://mobilizon.test/events/evil", "type": "Event", "name": "Rally " + "x" * 20_000,
        "startTime": start.isoformat(), "endTime": (start - timedelta(hours=1)).isoformat(),
        "location": {"type": "Place", "name": "P" * 20_000, "latitude": 1_000, "longitude": -3.5,
                     "address": {"type": "PostalAddress", "streetAddress": "S" * 20_000}},
        "attachment": [{"type": "Link", "name": "Website", "href": "javascript:alert(document.cookie)"}],
        "url": "javascript:alert(1)",
        "content": "<script>alert(1)</script><p>Come</p>",
    }

    assert (await peer.send(a, _join(fixtures_dir, peer, group, call.uri, hostile))).status_code == 202
    await net.settle()

    row = await _row(a, call.uri)
    assert (len(row.action_name or ""), len(row.action_place or ""), len(row.action_address or "")) == (300, 300, 500)
    assert (row.action_latitude, row.action_longitude, row.action_online_url, row.action_end) == (None,) * 4
    assert row.action_url == "http://mobilizon.test/events/evil" and row.action_description == "Come"
    page = (await a.get(call.uri.replace("http://a.test", ""), headers={"accept": "text/html"})).text
    assert "javascript:" not in page and "<script>alert" not in page
