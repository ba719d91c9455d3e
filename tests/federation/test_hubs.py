"""Hubs boost calls up the tree: city coalition → state hub → national hub → the national hub's follower."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.storage.models import Boost, InboxItem
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance, activities_sent

log = logging.getLogger(__name__)


async def _announces_received(instance: Instance, type_: str = "Announce") -> list[dict]:
    async with instance.ctx.sessions() as session:
        items = (await session.scalars(select(InboxItem).where(InboxItem.activity_type == type_))).all()
    return [item.payload for item in items]


async def _boosts(instance: Instance) -> list[Boost]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(Boost))).all())


async def _build_tree(net: FederationNet) -> tuple[Instance, Instance, Instance, Instance]:
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
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "national-hub@n.test"))
    await net.settle()
    return a, s, n, f


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="National day of action for rent control", description="Rally at city hall.",
        start=start, end=start + timedelta(hours=2), timezone="America/Chicago", place_name="City Hall",
        movements=["housing"], region_state="Illinois",
    )


async def test_a_call_climbs_the_tree_and_reaches_the_national_follower_once(net: FederationNet) -> None:
    a, s, n, f = await _build_tree(net)
    before = await activities_sent([a, s, n, f])

    started = time.perf_counter()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    elapsed = time.perf_counter() - started

    at_follower = [doc for doc in await _announces_received(f) if doc["object"] == call.uri]
    assert len(at_follower) == 1
    assert at_follower[0]["actor"] == "http://n.test/g/national-hub"
    assert [b.object_uri for b in await _boosts(s)] == [call.uri]
    assert [b.object_uri for b in await _boosts(n)] == [call.uri]
    log.warning("drill: %d activities crossed, settled in %.3fs", await activities_sent([a, s, n, f]) - before, elapsed)

    await committed(a.ctx, service.delete_object, call.uri)
    await net.settle()
    undos = [doc for doc in await _announces_received(f, "Undo") if doc["object"]["object"] == call.uri]
    assert [undo["actor"] for undo in undos] == ["http://n.test/g/national-hub"]
    assert all(b.undone_at is not None for b in await _boosts(s) + await _boosts(n))


@pytest.mark.all_backends  # once per (hub, object) is a unique-row race
async def test_two_hubs_following_each_other_boost_each_call_once(net: FederationNet) -> None:
    a, s, n, f = await _build_tree(net)
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "national-hub@n.test"))
    await net.settle()

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    rounds = await net.settle()

    assert rounds < 100
    assert len(await _boosts(s)) == 1 and len(await _boosts(n)) == 1
    announces_at_s = [doc for doc in await _announces_received(s) if doc["object"] == call.uri]
    assert [doc["actor"] for doc in announces_at_s] == ["http://n.test/g/national-hub"]
    assert len([doc for doc in await _announces_received(f) if doc["object"] == call.uri]) == 1


async def test_a_hub_does_not_boost_before_the_member_accepts(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants", manually_approves_followers=True)
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()

    await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    assert await _boosts(s) == []


async def test_a_hub_says_it_is_a_hub_and_publishes_its_roster(net: FederationNet) -> None:
    a, s, n, _f = await _build_tree(net)
    as2 = {"Accept": "application/activity+json"}

    document = (await s.get("/g/state-hub", headers=as2)).json()
    roster = (await s.get("/g/state-hub/members", headers=as2)).json()
    page = (await s.get("/g/state-hub", headers={"Accept": "text/html"})).text

    assert document["fedihub:hubScope"] == "state"
    assert {"fedihub": "https://fedihub.example/ns#"} in document["@context"]
    assert document["fedihub:members"] == roster["id"] == "http://s.test/g/state-hub/members"
    assert [member["id"] for member in roster["first"]["orderedItems"]] == ["http://a.test/g/tenants"]
    assert "Members of this state hub" in page and "Springfield Tenants" in page
    national_roster = (await n.get("/g/national-hub/members", headers=as2)).json()
    assert national_roster["first"]["orderedItems"][0]["fedihub:hubScope"] == "state"
    assert (await a.get("/g/tenants/members", headers=as2)).status_code == 404


async def test_cancelling_a_call_undoes_every_boost_and_replays_change_nothing(net: FederationNet) -> None:
    a, s, n, f = await _build_tree(net)
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    async with s.ctx.sessions() as session:
        create = await session.scalar(select(InboxItem).where(InboxItem.activity_type == "Create"))
    assert create is not None
    await s.runtime.processor.process(s.ctx, create)  # the same Create processed a second time
    await net.settle()
    assert len([doc for doc in await _announces_received(f) if doc["object"] == call.uri]) == 1

    await committed(a.ctx, calls.cancel_call, call.uri, "Permit refused")
    await net.settle()

    assert all(b.undone_at is not None for b in await _boosts(s) + await _boosts(n))
    undos = [doc for doc in await _announces_received(f, "Undo") if doc["object"]["object"] == call.uri]
    assert len(undos) == 1


async def test_a_removed_member_is_no_longer_boosted(net: FederationNet) -> None:
    a, s, _n, _f = await _build_tree(net)
    await committed(s.ctx, hubs.remove_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()

    await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    assert await _boosts(s) == []
    assert (await s.get("/g/state-hub/members", headers={"Accept": "application/activity+json"})).json()[
        "totalItems"
    ] == 0


async def test_a_hub_on_the_members_own_server_boosts_its_calls(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    f = await net.add_instance("f.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(a.ctx, hubs.create_hub, "city-hub", name="Springfield Hub", scope="local")
    await committed(f.ctx, service.create_coalition, "watchers", name="Watchers")
    await committed(a.ctx, hubs.add_member, "city-hub", await resolve_target(a.ctx, "tenants@a.test"))
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "city-hub@a.test"))
    await net.settle()

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    assert [doc["actor"] for doc in await _announces_received(f) if doc["object"] == call.uri] == [
        "http://a.test/g/city-hub"
    ]
