"""The national day of action drill: a whole tree of servers, a call climbing it, pledges with local
actions from three servers, the same roll-up everywhere, a withdrawal, and the call's cancellation."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import ensure_profile, set_movements
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.queries import rollup_of
from fedihub.storage.models import Actor, Boost, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.fixtures import fixtures_dir
from tests.support.network import FederationNet, Instance, activities_sent

pytestmark = pytest.mark.all_backends  # an end-to-end drill across the tree of servers

log = logging.getLogger(__name__)

CITIES = {
    # host: (coalition, name, city, state, movements)
    "chicago.test": ("chicago-tenants", "Chicago Tenants Union", "Chicago", "Illinois", ["housing"]),
    "springfield.test": ("springfield-renters", "Springfield Renters", "Springfield", "Illinois", ["housing"]),
    "cleveland.test": ("cleveland-union", "Cleveland Solidarity", "Cleveland", "Ohio", ["labor", "housing"]),
    "detroit.test": ("detroit-fight", "Detroit Fight for 15", "Detroit", "Michigan", ["labor"]),
}


async def _coalition(instance: Instance, handle: str, name: str, city: str, state: str, movements: list[str]) -> None:
    await committed(instance.ctx, service.create_coalition, handle, name=name)
    async with instance.ctx.sessions.begin() as session:
        actor = await session.scalar(select(Actor).where(Actor.local_username == handle))
        assert actor is not None
        profile = ensure_profile(actor)
        profile.region_city, profile.region_state, profile.region_country = city, state, "US"
        await set_movements(session, actor, movements)


async def _tree(net: FederationNet) -> tuple[dict[str, Instance], Instance, Instance, FakePeer]:
    cities = {host: await net.add_instance(host) for host in CITIES}
    state = await net.add_instance("illinois.test")
    national = await net.add_instance("national.test")
    for host, (handle, name, city, region, movements) in CITIES.items():
        await _coalition(cities[host], handle, name, city, region, movements)
    await committed(state.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(national.ctx, hubs.create_hub, "national", name="National Hub", scope="national", calls_only=True)
    await committed(
        state.ctx, hubs.add_member, "illinois", await resolve_target(state.ctx, "chicago-tenants@chicago.test")
    )
    await committed(
        state.ctx, hubs.add_member, "illinois", await resolve_target(state.ctx, "springfield-renters@springfield.test")
    )
    await committed(
        national.ctx, hubs.add_member, "national", await resolve_target(national.ctx, "illinois@illinois.test")
    )
    await committed(
        national.ctx, hubs.add_member, "national", await resolve_target(national.ctx, "cleveland-union@cleveland.test")
    )
    # Two hubs following each other: the state hub also carries what the national hub boosts.
    await committed(state.ctx, hubs.add_member, "illinois", await resolve_target(state.ctx, "national@national.test"))
    # Chicago follows its state hub: its organizers' own choice, from which the hubs' rosters vouch
    # for pledges (the Illinois hub's, and the national hub's, which the Illinois hub follows).
    await committed(
        cities["chicago.test"].ctx, follows.follow, "chicago-tenants",
        await resolve_target(cities["chicago.test"].ctx, "illinois@illinois.test"),
    )
    # An ordinary person on a Mastodon-like server follows the national hub.
    peer = add_fake_peer(net, "mastodon.test", fixtures_dir(), usernames=("alice",))
    alice = peer.accounts["alice"]
    assert (await peer.send(national, peer.build_follow(alice, "http://national.test/g/national"))).status_code == 202
    await net.settle()
    return cities, state, national, peer


def _call_input(net: FederationNet) -> calls.CallInput:
    # Whole seconds, as a person types a time: documents carry no fractions of a second, and each
    # pledging server keeps its own pledge as it made it (the call's origin never overwrites it).
    start = (net.clock() + timedelta(days=14)).replace(microsecond=0)
    return calls.CallInput(
        title="National day of action for rent control", description="Rallies in every state.",
        start=start, end=start + timedelta(hours=3), timezone="America/Chicago", place_name="Daley Plaza",
        movements=["housing"],
    )


def _snapshot(rollup: Any) -> tuple:
    return (
        rollup.pledged, tuple(rollup.by_region), tuple(rollup.by_movement),
        tuple((i.coalition.name, i.action.name, i.action.start) for i in rollup.actions),
        tuple(sorted(c.name or c.uri for c in rollup.carriers)),
        tuple(item.coalition.name for item in rollup.unvouched_pledges),
    )


async def _rollups(instances: list[Instance], call_uri: str) -> dict[str, tuple]:
    found = {}
    for instance in instances:
        async with instance.ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
            assert row is not None, f"{instance.base_url} does not show the call"
            found[instance.base_url] = _snapshot(await rollup_of(session, row))
    return found


async def test_a_national_day_of_action_across_the_tree(net: FederationNet) -> None:
    cities, state, national, peer = await _tree(net)
    everyone = [*cities.values(), state, national]
    before = await activities_sent(everyone)

    started = time.perf_counter()
    call = await committed(cities["chicago.test"].ctx, calls.publish_call, "chicago-tenants", _call_input(net))
    await net.settle()
    climb_seconds = time.perf_counter() - started

    # The national hub's follower on another server gets the call exactly once.
    announces = [a for a in peer.received("Announce") if a["object"] == call.uri]
    assert [a["actor"] for a in announces] == ["http://national.test/g/national"]
    for instance in (state, national):
        async with instance.ctx.sessions() as session:
            assert await session.scalar(select(func.count(Boost.id))) == 1, instance.base_url

    # Three coalitions on three other servers pledge, each with a local action.
    started = time.perf_counter()
    for host, place, hours in (("springfield.test", "State Capitol", 1), ("cleveland.test", "Public Square", 2),
                               ("detroit.test", "Hart Plaza", 3)):
        handle = CITIES[host][0]
        await committed(
            cities[host].ctx, pledges.pledge, handle, await get_call_target(cities[host].ctx, call.uri),
            message=f"{CITIES[host][1]} is in",
            action=pledges.LocalActionInput(
                title=f"{CITIES[host][2]} rally", start=call.start_time + timedelta(hours=hours),
                timezone="America/New_York", place=place,
            ),
        )
    await net.settle()
    pledge_seconds = time.perf_counter() - started
    crossed = await activities_sent(everyone) - before

    seen = await _rollups(everyone, call.uri)
    origin = seen["http://chicago.test"]
    # Springfield is in the Illinois hub's roster, Cleveland in the national hub's (which carries the call
    # through its member, the Illinois hub), each confirmed by its own server: vouched. No hub lists
    # Detroit: its pledge is accepted and shown apart, outside the headline.
    assert origin[0] == 2
    assert dict(origin[1]) == {"Illinois, US": 1, "Ohio, US": 1}
    assert dict(origin[2]) == {"housing": 2, "labor": 1}
    assert [a[1] for a in origin[3]] == ["Springfield rally", "Cleveland rally"]
    assert origin[4] == ("Illinois Hub", "National Hub")
    assert origin[5] == ("Detroit Fight for 15",)
    assert all(snapshot == origin for snapshot in seen.values()), seen

    # Detroit withdraws: every copy drops it.
    await committed(cities["detroit.test"].ctx, pledges.withdraw, "detroit-fight", call.uri)
    await net.settle()
    assert {snapshot[0] for snapshot in (await _rollups(everyone, call.uri)).values()} == {2}
    assert {snapshot[5] for snapshot in (await _rollups(everyone, call.uri)).values()} == {()}

    # Chicago cancels: every server shows it cancelled, every hub undoes its boost, Alice sees the undo.
    await committed(cities["chicago.test"].ctx, calls.cancel_call, call.uri, "The permit was withdrawn")
    await net.settle()
    for instance in everyone:
        async with instance.ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        assert row is not None and row.event_status == "CANCELLED", instance.base_url
    undos = [u for u in peer.received("Undo") if u["object"].get("object") == call.uri]
    assert [u["actor"] for u in undos] == ["http://national.test/g/national"]

    log.warning(
        "national day drill: call climbed in %.2fs; 3 pledges settled in %.2fs; %d activities crossed "
        "(call, boosts, pledges, accepts and roll-up notices)", climb_seconds, pledge_seconds, crossed,
    )
