"""Feeds across servers: a hub's calendar and Atom feed carry what the hub boosted from another
instance, with the same UID the origin's calendar gives, until the call is deleted."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import feedparser
import icalendar

from fedihub.coalitions import calls, service
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

CHICAGO = ZoneInfo("America/Chicago")


def uids(response_text: str) -> list[str]:
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(response_text).walk("VEVENT")]


async def test_a_hub_feed_carries_the_calls_it_boosted_from_other_servers(net: FederationNet) -> None:
    a: Instance = await net.add_instance("a.test")
    s: Instance = await net.add_instance("s.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()
    start = (net.clock() + timedelta(days=40)).astimezone(CHICAGO).replace(hour=18, minute=30, second=0, microsecond=0)
    call = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Statewide rent strike", description="Every county.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="Capitol", movements=["housing"], region_state="Illinois",
    ))
    await net.settle()

    at_origin = await a.get("/g/tenants/calls.ics")
    at_hub = await s.get("/g/state-hub/calls.ics")
    atom = feedparser.parse((await s.get("/g/state-hub/feed.atom")).content)
    instance = await s.get("/calls.ics?movement=housing&region=Illinois")

    assert uids(at_origin.text) == uids(at_hub.text) == uids(instance.text) == [call.uri]
    [event] = icalendar.Calendar.from_ical(at_hub.text).walk("VEVENT")
    assert event.decoded("DTSTART").replace(tzinfo=None) == start.replace(tzinfo=None)
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert not atom.bozo and [e.id for e in atom.entries] == [call.uri]
    assert atom.entries[0].link.startswith("http://s.test/calls/view?url=")

    await committed(a.ctx, service.delete_object, call.uri)
    await net.settle()

    assert uids((await s.get("/g/state-hub/calls.ics")).text) == []
    assert feedparser.parse((await s.get("/g/state-hub/feed.atom")).content).entries == []
