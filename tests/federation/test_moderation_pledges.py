"""Pledges from a blocked group, as Mobilizon sends them: refused by the coalition that blocked it, and
by every coalition once the admins block it (its accepted pledges end too)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation.actors import resolve_target
from fedihub.moderation import actor_blocks
from fedihub.storage.models import Pledge
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _call(net: FederationNet, title: str) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(title=title, description="Everywhere.", start=start, end=start + timedelta(hours=2),
                           timezone="Europe/Paris", place_name="Place de la République")


def _join(fixtures_dir: Path, peer: FakePeer, account: FakeAccount, call_uri: str) -> dict[str, Any]:
    activity = json.loads((fixtures_dir / "mobilizon" / "join_event.json").read_text())
    activity.update(id=peer.new_id(account), actor=account.id, object=call_uri)
    return activity


def _as_group(peer: FakePeer) -> None:
    person_document = peer.actor_document
    peer.actor_document = lambda acct: {**person_document(acct), "type": "Group"}  # type: ignore[method-assign]


async def _pledge_states(instance: Instance) -> dict[str, str]:
    async with instance.ctx.sessions() as session:
        return {row.call_uri: row.state for row in (await session.scalars(select(Pledge))).all()}


async def test_a_group_blocked_by_one_coalition_cannot_pledge_to_its_calls_but_still_to_others(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Paris Tenants")
    await committed(a.ctx, service.create_coalition, "nurses", name="Nurses")
    ours = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Rent strike"))
    theirs = await committed(a.ctx, calls.publish_call, "nurses", _call(net, "Clinic picket"))
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collectif",))
    _as_group(peer)
    group = peer.accounts["collectif"]
    await committed(a.ctx, actor_blocks.block_actor, await resolve_target(a.ctx, group.id), coalition=tenants)

    assert (await peer.send(a, _join(fixtures_dir, peer, group, ours.uri))).status_code == 202
    assert (await peer.send(a, _join(fixtures_dir, peer, group, theirs.uri))).status_code == 202
    await net.settle()

    assert await _pledge_states(a) == {theirs.uri: "accepted"}
    assert [answer["actor"] for answer in peer.received("Accept")] == ["http://a.test/g/nurses"]
    assert peer.received("Reject") == []  # the blocked pledge gets no answer at all


async def test_an_admin_block_ends_a_groups_accepted_pledges_and_refuses_new_ones(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Paris Tenants")
    first = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Rent strike"))
    second = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Second strike"))
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collectif",))
    _as_group(peer)
    group = peer.accounts["collectif"]
    assert (await peer.send(a, _join(fixtures_dir, peer, group, first.uri))).status_code == 202
    await net.settle()
    assert await _pledge_states(a) == {first.uri: "accepted"}

    root = await organizer(a, "root", is_admin=True)
    try:
        response = await root.submit("/admin/moderation", "/admin/moderation/actors", {"actor": group.id})
        assert response.status_code == 303
    finally:
        await root.client.aclose()
    assert (await peer.send(a, _join(fixtures_dir, peer, group, second.uri))).status_code == 202
    await net.settle()

    # Refused as organizers refuse: the roll-up no longer counts it, and every copy is told.
    assert await _pledge_states(a) == {first.uri: "rejected"}
    collection = (await a.get(f"{first.uri.removeprefix('http://a.test')}/pledges",
                              headers={"Accept": "application/activity+json"})).json()
    assert collection["totalItems"] == 0
    assert [r["object"]["object"] for r in peer.received("Reject")] == [first.uri]
