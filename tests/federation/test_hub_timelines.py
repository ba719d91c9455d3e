"""Calls carried by hubs reach the timelines of the hubs' followers, on every server, once each."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Boost, Reaction, StoredObject
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _call(net: FederationNet) -> calls.CallInput:
    start = (net.clock() + timedelta(days=10)).replace(second=0, microsecond=0)
    return calls.CallInput(
        title="Day of action for rent control", description="Rally at city hall.",
        start=start, end=start + timedelta(hours=2), timezone="America/Chicago", place_name="City Hall",
        movements=["housing"], region_state="Illinois",
    )


async def _stored(instance: Instance, uri: str) -> list[StoredObject]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(StoredObject).where(StoredObject.uri == uri))).all())


async def _boosters(instance: Instance, uri: str) -> list[str]:
    async with instance.ctx.sessions() as session:
        rows = await session.execute(
            select(Actor.uri).join(Reaction, Reaction.actor_id == Actor.id)
            .where(Reaction.object_uri == uri, Reaction.type == "Announce")
        )
        return [uri for (uri,) in rows]


async def _boost_count(instance: Instance) -> int:
    async with instance.ctx.sessions() as session:
        return len((await session.scalars(select(Boost))).all())


async def test_a_followers_timeline_shows_the_call_a_hub_carried(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    f = await net.add_instance("f.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    watchers = await committed(f.ctx, service.create_coalition, "watchers", name="Watchers")
    # On the hub's own server.
    neighbours = await committed(s.ctx, service.create_coalition, "neighbours", name="Neighbours")
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "state-hub@s.test"))
    await committed(s.ctx, follows.follow, "neighbours", await resolve_target(s.ctx, "state-hub@s.test"))
    await net.settle()

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    # f follows only the hub, yet stores the call as the author's own Create would have.
    [there] = await _stored(f, call.uri)
    assert there.type == "Event" and not there.is_local and there.visibility == "public"
    assert there.author.uri == "http://a.test/g/tenants" and there.name == "Day of action for rent control"
    assert there.start_time == call.start_time and there.location_name == "City Hall"
    assert await _boosters(f, call.uri) == ["http://s.test/g/state-hub"]
    assert await _boost_count(s) == 1 and await _boost_count(f) == 0

    link = f"/calls/view?url={quote(call.uri, safe='')}"
    for instance, coalition in ((f, watchers), (s, neighbours)):
        browser = await organizer(instance, "ed", coalition)
        try:
            overview = (await browser.get(f"/manage/{coalition.username}")).text
            timeline = html.unescape(overview.split('id="timeline-heading"', 1)[1])
            assert "Boosted by Illinois Hub" in timeline
            assert "Day of action for rent control" in timeline and "Springfield Tenants" in timeline
            assert f'href="{link}"' in timeline
            page = await browser.get(link)
            assert page.status_code == 200 and "Day of action for rent control" in page.text
            assert "View on a.test" in page.text
        finally:
            await browser.client.aclose()


async def test_up_the_tree_each_server_stores_the_call_once_and_each_hub_boosts_once(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    n = await net.add_instance("n.test")
    f = await net.add_instance("f.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(n.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(f.ctx, service.create_coalition, "watchers", name="Watchers")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await committed(n.ctx, hubs.add_member, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"))
    # a cycle, on purpose
    await committed(
        s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "national-hub@n.test")
    )
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "national-hub@n.test"))
    await net.settle()

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    assert await _boost_count(s) == 1 and await _boost_count(n) == 1
    for instance in (s, n, f):
        assert len(await _stored(instance, call.uri)) == 1
    assert await _boosters(f, call.uri) == ["http://n.test/g/national-hub"]
    # The national hub's own copy came from the origin, attributed to the coalition there.
    [at_n] = await _stored(n, call.uri)
    assert at_n.author.uri == "http://a.test/g/tenants"
