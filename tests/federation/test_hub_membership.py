"""Coalitions ask to join hubs (Join), hub admins approve (Accept + Follow) or refuse (Reject); Leave ends it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.errors import Conflict, InvalidInput
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import membership
from fedihub.hubs import service as hubs
from fedihub.storage.models import Boost, Follow, HubRequest, InboxItem
from tests.support.edges import committed, read
from tests.support.fake_peer import add_fake_peer
from tests.support.network import FederationNet, Instance

HUB = "http://s.test/g/state-hub"
TENANTS = "http://a.test/g/tenants"


async def _received(instance: Instance, type_: str) -> list[dict]:
    async with instance.ctx.sessions() as session:
        items = (await session.scalars(select(InboxItem).where(InboxItem.activity_type == type_))).all()
    return [item.payload for item in items]


async def _request_state(instance: Instance) -> str | None:
    async with instance.ctx.sessions() as session:
        rows = (await session.scalars(select(HubRequest))).all()
    states = {(row.hub.uri, row.member.uri): row.state for row in rows}
    return states.get((HUB, TENANTS))


async def _follow_state(instance: Instance, follower: str, target: str) -> str | None:
    async with instance.ctx.sessions() as session:
        for row in (await session.scalars(select(Follow))).all():
            if row.follower.uri == follower and row.target.uri == target:
                return row.state
    return None


async def _boosted(instance: Instance) -> list[str]:
    async with instance.ctx.sessions() as session:
        return [b.object_uri for b in (await session.scalars(select(Boost).where(Boost.undone_at.is_(None)))).all()]


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="Rent strike rally", description="At city hall.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="City Hall", movements=["housing"], region_state="Illinois",
    )


async def _network(
    net: FederationNet, *, locked: bool = False, **hub_settings: int
) -> tuple[Instance, Instance, Instance]:
    """Tenants on a.test, the state hub on s.test, and watchers on f.test who follow the hub."""
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test", **hub_settings)
    f = await net.add_instance("f.test")
    await committed(
        a.ctx, service.create_coalition, "tenants", name="Springfield Tenants", manually_approves_followers=locked
    )
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(f.ctx, service.create_coalition, "watchers", name="Watchers")
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "state-hub@s.test"))
    await net.settle()
    return a, s, f


async def _join_and_approve(net: FederationNet, a: Instance, s: Instance) -> None:
    await committed(
        a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"),
        "We organise renters in Springfield."
    )
    await net.settle()
    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=True
    )
    await net.settle()


async def test_a_remote_coalition_asks_the_admins_approve_and_the_hub_boosts_its_call(net: FederationNet) -> None:
    a, s, f = await _network(net)

    message = "We organise renters <b>in</b> Springfield."
    row = await committed(
        a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"), message
    )
    await net.settle()

    [join] = await _received(s, "Join")
    assert {k: join[k] for k in ("id", "type", "actor", "object", "to")} == {
        "id": row.uri, "type": "Join", "actor": TENANTS, "object": HUB, "to": [HUB],
    }
    assert join["content"] == "We organise renters &lt;b&gt;in&lt;/b&gt; Springfield."
    [waiting] = await read(s.ctx, membership.join_requests, (await read(s.ctx, hubs.get_hub, "state-hub")).id)
    assert (waiting.member.uri, waiting.message) == (TENANTS, "We organise renters <b>in</b> Springfield.")
    assert await _request_state(a) == "pending"
    assert await _follow_state(s, HUB, TENANTS) is None

    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=True
    )
    await net.settle()

    # The Accept of the Join; the other Accept is of the member's own follow of its hub (two-way membership).
    [accept] = [doc for doc in await _received(a, "Accept") if doc["object"].get("type") == "Join"]
    assert accept["actor"] == HUB
    assert accept["object"] == {"id": row.uri, "type": "Join", "actor": TENANTS, "object": HUB}
    assert (await _request_state(a), await _request_state(s)) == ("approved", "approved")
    assert await _follow_state(s, HUB, TENANTS) == "accepted"

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    assert [doc["actor"] for doc in await _received(f, "Announce") if doc["object"] == call.uri] == [HUB]
    roster = (await s.get("/g/state-hub/members", headers={"Accept": "application/activity+json"})).json()
    assert [item["id"] for item in roster["first"]["orderedItems"]] == [TENANTS]


async def test_a_coalition_approving_followers_by_hand_accepts_the_hub_it_asked_to_join(net: FederationNet) -> None:
    # One delivery at a time: the Accept of the Join reaches a.test before the hub's Follow.
    a, s, f = await _network(net, locked=True, delivery_concurrency=1)

    await _join_and_approve(net, a, s)

    assert await _follow_state(s, HUB, TENANTS) == "accepted"
    assert await read(a.ctx, follows.pending_requests, "tenants") == []
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    assert await _boosted(s) == [call.uri]


async def test_the_hubs_follow_is_accepted_when_it_comes_before_the_answer(net: FederationNet) -> None:
    a, s, _f = await _network(net, locked=True)
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()

    # Follow first (an admin used the plain follow), the Accept of the Join afterwards.
    await committed(s.ctx, follows.follow, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()
    assert await _follow_state(s, HUB, TENANTS) == "accepted"
    assert await _request_state(a) == "pending"

    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=True
    )
    await net.settle()
    assert await _request_state(a) == "approved"
    assert len(await _received(a, "Follow")) == 1


async def test_a_coalition_the_hub_already_asked_is_accepted_at_once_when_it_asks_too(net: FederationNet) -> None:
    a, s, _f = await _network(net, locked=True)
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()
    assert await _follow_state(s, HUB, TENANTS) == "pending"  # held for approval at a.test

    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()

    assert await _follow_state(s, HUB, TENANTS) == "accepted"
    assert (await _request_state(a), await _request_state(s)) == ("approved", "approved")
    assert await read(s.ctx, membership.join_requests, (await read(s.ctx, hubs.get_hub, "state-hub")).id) == []


async def test_leaving_stops_the_boosts_and_both_sides_know(net: FederationNet) -> None:
    a, s, f = await _network(net, locked=True)
    await _join_and_approve(net, a, s)

    await committed(a.ctx, membership.leave_hub, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()

    [leave] = await _received(s, "Leave")
    assert {k: leave[k] for k in ("type", "actor", "object", "to")} == {
        "type": "Leave", "actor": TENANTS, "object": HUB, "to": [HUB],
    }
    assert await _follow_state(s, HUB, TENANTS) is None
    assert (await _request_state(a), await _request_state(s)) == ("withdrawn", "withdrawn")
    await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    assert await _boosted(s) == []
    assert await _received(f, "Announce") == []

    # Asking again works, and is a new request for the admins.
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()
    assert (await _request_state(a), await _request_state(s)) == ("pending", "pending")


async def test_a_hub_removes_a_member_and_the_member_sees_it_ended(net: FederationNet) -> None:
    a, s, _f = await _network(net)
    await _join_and_approve(net, a, s)

    await committed(s.ctx, hubs.remove_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()

    assert await _follow_state(a, HUB, TENANTS) is None
    assert (await _request_state(a), await _request_state(s)) == ("withdrawn", "withdrawn")
    await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    assert await _boosted(s) == []


async def test_a_refused_coalition_is_told_and_keeps_following_the_hub(net: FederationNet) -> None:
    a, s, _f = await _network(net)
    # a follower of the hub, like anyone
    await committed(
        a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "state-hub@s.test")
    )
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()

    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=False
    )
    await net.settle()

    [reject] = await _received(a, "Reject")
    assert reject["object"]["type"] == "Join" and reject["actor"] == HUB
    assert (await _request_state(a), await _request_state(s)) == ("refused", "refused")
    assert await _follow_state(s, HUB, TENANTS) is None
    # The Reject answers the Join, not the coalition's follow of the hub.
    assert await _follow_state(a, TENANTS, HUB) == "accepted"
    with pytest.raises(Exception, match="no pending request"):
        await committed(
            s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=True
        )


async def test_only_hubs_can_be_joined_and_only_once(net: FederationNet) -> None:
    a, s, _f = await _network(net)
    await committed(s.ctx, service.create_coalition, "climate", name="Climate Action")

    with pytest.raises(InvalidInput, match="is not a hub"):
        await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "climate@s.test"))
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    with pytest.raises(Conflict, match="already asked"):
        await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))


async def test_a_hub_joins_a_hub_on_the_same_server(net: FederationNet) -> None:
    """One server hosting both sides: the two share one request row, handed over without HTTP."""
    s = await net.add_instance("s.test")
    a = await net.add_instance("a.test")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    await committed(s.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    await net.settle()
    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, "tenants@a.test"), approve=True
    )

    await committed(
        s.ctx, membership.ask_to_join, "state-hub", await resolve_target(s.ctx, "national-hub@s.test"),
        "The Illinois hub"
    )
    await net.settle()
    national = await read(s.ctx, hubs.get_hub, "national-hub")
    [row] = await read(s.ctx, membership.join_requests, national.id)
    await committed(
        s.ctx, membership.decide_join, "national-hub", await resolve_target(s.ctx, row.member.uri), approve=True
    )
    await net.settle()

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    assert sorted(await _boosted(s)) == [call.uri, call.uri]  # the state hub's boost, then the national hub's
    members = await read(s.ctx, hubs.list_members, national.id)
    assert [m.uri for m in members] == ["http://s.test/g/state-hub"]


async def test_a_mobilizon_shaped_join_is_recorded_and_answered(net: FederationNet, fixtures_dir: Path) -> None:
    s = await net.add_instance("s.test")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    await committed(s.ctx, service.create_coalition, "climate", name="Climate Action")
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collective",))
    collective = peer.accounts["collective"]
    join = peer._fixture("mobilizon/join_event.json")
    join.update(id=peer.new_id(suffix="/join"), actor=collective.id, object=HUB,
                participationMessage="Our collective organises in Peoria")
    not_a_hub = {**join, "id": peer.new_id(suffix="/join"), "object": "http://s.test/g/climate"}

    assert (await peer.send(s, join)).status_code == 202
    assert (await peer.send(s, not_a_hub)).status_code == 202
    await net.settle()

    hub = await read(s.ctx, hubs.get_hub, "state-hub")
    [row] = await read(s.ctx, membership.join_requests, hub.id)
    assert (row.uri, row.message) == (join["id"], "Our collective organises in Peoria")
    async with s.ctx.sessions() as session:
        assert len((await session.scalars(select(HubRequest))).all()) == 1

    await committed(
        s.ctx, membership.decide_join, "state-hub", await resolve_target(s.ctx, collective.id), approve=True
    )
    await net.settle()
    [accept] = peer.received("Accept")
    assert accept["object"]["id"] == join["id"] and accept["object"]["type"] == "Join"
    assert [doc["object"] for doc in peer.received("Follow")] == [collective.id]
