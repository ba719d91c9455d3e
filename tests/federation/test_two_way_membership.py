"""Membership is two-way: members follow their hubs, so calls come down the tree to a city coalition."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from fedihub.coalitions import calls, service
from fedihub.coalitions.timeline import organizer_timeline
from fedihub.federation import jobs
from fedihub.federation.actors import get_local_actor, resolve_target
from fedihub.hubs import membership, two_way
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Boost, Follow, StoredObject
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

CITY = "http://c.test/g/city-tenants"
STATE = "http://s.test/g/state-hub"
NATIONAL = "http://n.test/g/national-hub"


async def _follows(instance: Instance) -> dict[tuple[str, str], tuple[str, bool]]:
    """Every follow this server stores: (follower, target) → (state, of_hub)."""
    follower, target = aliased(Actor), aliased(Actor)
    async with instance.ctx.sessions() as session:
        rows = (
            await session.execute(
                select(follower.uri, target.uri, Follow.state, Follow.of_hub)
                .join(follower, follower.id == Follow.follower_id).join(target, target.id == Follow.target_id)
            )
        ).all()
    return {(a, b): (state, of_hub) for a, b, state, of_hub in rows}


async def _tree(net: FederationNet) -> tuple[Instance, Instance, Instance, Instance]:
    """City coalition ∈ state hub ∈ national hub ∋ another coalition; the city and state members asked to join."""
    c = await net.add_instance("c.test")
    s = await net.add_instance("s.test")
    n = await net.add_instance("n.test")
    o = await net.add_instance("o.test")
    await committed(c.ctx, service.create_coalition, "city-tenants", name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(n.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(o.ctx, service.create_coalition, "national-org", name="Renters United")
    await committed(c.ctx, membership.ask_to_join, "city-tenants", await resolve_target(c.ctx, "state-hub@s.test"))
    await committed(s.ctx, membership.ask_to_join, "state-hub", await resolve_target(s.ctx, "national-hub@n.test"))
    await net.settle()
    # The state hub's admins add the city coalition that asked: that approves its request.
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "city-tenants@c.test"))
    await committed(n.ctx, membership.decide_join, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"),
                    approve=True)
    await committed(n.ctx, hubs.add_member, "national-hub", await resolve_target(n.ctx, "national-org@o.test"))
    await net.settle()
    return c, s, n, o


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="National day of action for rent control", description="Rallies everywhere.",
        start=start, end=start + timedelta(hours=2), timezone="America/Chicago", place_name="Everywhere",
        movements=["housing"],
    )


async def _city_timeline(c: Instance) -> list[str]:
    async with c.ctx.sessions() as session:
        city = await get_local_actor(session, "city-tenants")
        return [entry.row.uri for entry in await organizer_timeline(session, city.id)]


async def _stored(instance: Instance, uri: str) -> bool:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject.id).where(StoredObject.uri == uri)) is not None


async def test_a_national_call_reaches_a_city_coalition_that_never_followed_a_hub_by_hand(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)
    # Either consent path: the member follows its hub, and the hub's server accepted that follow.
    assert (await _follows(c))[(CITY, STATE)] == ("accepted", True)
    assert (await _follows(s))[(STATE, NATIONAL)] == ("accepted", True)
    assert (await _follows(n))[(STATE, NATIONAL)] == ("accepted", True)
    # The member's follow of its hub makes the hub no member of its member.
    async with s.ctx.sessions() as session:
        hub = await hubs.get_hub(session, "state-hub")
        assert [entry.uri for entry in await hubs.list_members(session, hub.id)] == [CITY]
        assert [item.hub.uri for item in await membership.hubs_of(session, hub.id)] == [NATIONAL]

    call = await committed(o.ctx, calls.publish_call, "national-org", _call(net))
    await net.settle()

    assert await _stored(c, call.uri)
    assert call.uri in await _city_timeline(c)
    # Down the tree once: the state hub re-announced the original, and nobody boosted it twice.
    async with s.ctx.sessions() as session:
        assert (await session.scalars(select(Boost.object_uri))).all() == [call.uri]
    async with n.ctx.sessions() as session:
        assert (await session.scalars(select(Boost.object_uri))).all() == [call.uri]


async def test_a_hub_passes_down_only_the_calls_its_own_boost_rules_allow(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)
    # The state hub's admins let it boost labor calls only; the national hub has no such rule.
    await committed(s.ctx, hubs.update_rules, "state-hub", scope="state", region="Illinois", movements=["labor"],
                    regions=[], calls_only=False)

    housing = await committed(o.ctx, calls.publish_call, "national-org",
                              replace(_call(net), title="National rent strike", movements=["housing"]))
    labor = await committed(o.ctx, calls.publish_call, "national-org",
                            replace(_call(net), title="National strike for a living wage", movements=["labor"]))
    await net.settle()

    # Both reached the state hub through the national hub; only the labor call went on down.
    async with n.ctx.sessions() as session:
        assert set((await session.scalars(select(Boost.object_uri))).all()) == {housing.uri, labor.uri}
    async with s.ctx.sessions() as session:
        assert (await session.scalars(select(Boost.object_uri))).all() == [labor.uri]
    timeline = await _city_timeline(c)
    assert labor.uri in timeline
    assert housing.uri not in timeline and not await _stored(c, housing.uri)


async def test_leaving_a_hub_undoes_both_follows(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)

    # The member leaves.
    await committed(c.ctx, membership.leave_hub, "city-tenants", await resolve_target(c.ctx, "state-hub@s.test"))
    await net.settle()
    for instance in (c, s):
        follows = await _follows(instance)
        assert (CITY, STATE) not in follows and (STATE, CITY) not in follows

    # The hub removes a member.
    await committed(n.ctx, hubs.remove_member, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"))
    await net.settle()
    for instance in (s, n):
        follows = await _follows(instance)
        assert (STATE, NATIONAL) not in follows and (NATIONAL, STATE) not in follows

    # A call posted now no longer comes down to the state hub.
    call = await committed(o.ctx, calls.publish_call, "national-org", _call(net))
    await net.settle()
    assert not await _stored(s, call.uri) and not await _stored(c, call.uri)


async def test_the_backfill_makes_members_of_an_existing_network_follow_their_hubs(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)
    # Memberships made the old way: only the hubs follow their members.
    for instance in (c, s, n):
        async with instance.ctx.sessions.begin() as session:
            await session.execute(delete(Follow).where(Follow.of_hub.is_(True)))
    call = await committed(o.ctx, calls.publish_call, "national-org", _call(net))
    await net.settle()
    assert not await _stored(c, call.uri)

    for instance in (c, s):
        async with instance.ctx.sessions.begin() as session:
            await jobs.enqueue(session, two_way.SWEEP_JOB, key="backfill", at=instance.ctx.clock())
    await net.settle()

    assert (await _follows(c))[(CITY, STATE)] == ("accepted", True)
    assert (await _follows(s))[(CITY, STATE)] == ("accepted", True)
    assert (await _follows(s))[(STATE, NATIONAL)] == ("accepted", True)
    assert (await _follows(n))[(STATE, NATIONAL)] == ("accepted", True)
    # Idempotent: a second run finds nothing to do.
    async with c.ctx.sessions.begin() as session:
        assert await two_way.sweep(c.ctx, session) == 0

    later = await committed(o.ctx, calls.publish_call, "national-org", _call(net))
    await net.settle()
    assert later.uri in await _city_timeline(c)


async def test_a_hostile_hub_that_follows_a_coalition_is_not_followed_back(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)
    # Coalitions accept followers on their own: a "hub" that follows one got no consent to be its hub,
    # and must not be followed back (a followed hub anchors vouching for pledges).
    hostile = await net.add_instance("evil.test")
    await committed(hostile.ctx, hubs.create_hub, "fake-hub", name="Fake Hub", scope="national")
    await committed(hostile.ctx, hubs.add_member, "fake-hub", await resolve_target(hostile.ctx, "national-org@o.test"))
    await net.settle()
    for instance in (o, hostile):
        follows = await _follows(instance)
        assert follows[("http://evil.test/g/fake-hub", "http://o.test/g/national-org")] == ("accepted", False)
        assert ("http://o.test/g/national-org", "http://evil.test/g/fake-hub") not in follows
    async with o.ctx.sessions.begin() as session:
        assert await two_way.sweep(o.ctx, session) == 0
