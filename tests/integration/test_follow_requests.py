"""Coalitions that approve followers by hand: a Follow waits until an organizer decides."""

from __future__ import annotations

import pytest

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Actor
from tests.integration.helpers import find_follow
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance


@pytest.fixture
async def closed(a: Instance) -> Actor:
    return await committed(
        a.ctx, service.create_coalition, "closed", name="Closed Circle", manually_approves_followers=True
    )


async def test_a_follow_waits_for_approval_and_approval_sends_the_accept(
    net: FederationNet, a: Instance, peer: FakePeer, closed: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, closed.uri)
    assert (await peer.send(a, follow)).status_code == 202
    await net.settle()

    assert (await find_follow(a, alice.id, closed.uri)).state == "pending"  # type: ignore[union-attr]
    assert peer.received("Accept") == []
    actor_doc = (await a.get("/g/closed", headers={"Accept": "application/activity+json"})).json()
    assert actor_doc["manuallyApprovesFollowers"] is True

    await committed(a.ctx, follows.decide_request, "closed", await resolve_target(a.ctx, alice.id), approve=True)
    await net.settle()

    [accept] = peer.received("Accept")
    assert accept["object"]["id"] == follow["id"]
    assert (await find_follow(a, alice.id, closed.uri)).state == "accepted"  # type: ignore[union-attr]


async def test_rejecting_a_request_sends_a_reject_and_forgets_the_follow(
    net: FederationNet, a: Instance, peer: FakePeer, closed: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, closed.uri)
    await peer.send(a, follow)
    await net.settle()

    await committed(a.ctx, follows.decide_request, "closed", await resolve_target(a.ctx, alice.handle), approve=False)
    await net.settle()

    [reject] = peer.received("Reject")
    assert reject["actor"] == closed.uri
    assert reject["object"]["id"] == follow["id"]
    assert peer.received("Accept") == []
    assert await find_follow(a, alice.id, closed.uri) is None
