"""Pledges as Mobilizon sends and reads them: Join → Accept/Reject with the Join embedded, Leave, Undo."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.store import accepted_pledges
from fedihub.storage.models import Pledge, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="Day of action", description="Everywhere.", start=start, end=start + timedelta(hours=2),
        timezone="Europe/Paris", place_name="Place de la République",
    )


def _mobilizon(fixtures_dir: Path, name: str, peer: FakePeer, account: FakeAccount, call_uri: str) -> dict[str, Any]:
    """A captured Mobilizon activity, sent by ``account`` about our call."""
    activity = json.loads((fixtures_dir / "mobilizon" / name).read_text())
    activity.update(id=peer.new_id(account), actor=account.id, object=call_uri)
    return activity


async def _setup(
    net: FederationNet, fixtures_dir: Path, *, as_group: bool
) -> tuple[Instance, FakePeer, FakeAccount, StoredObject]:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Paris Tenants")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collectif",))
    account = peer.accounts["collectif"]
    if as_group:
        person_document = peer.actor_document
        group = json.loads((fixtures_dir / "mobilizon" / "group.json").read_text())

        def group_document(acct: FakeAccount) -> dict[str, Any]:
            # A Mobilizon group: type Group, its region in a Place with a PostalAddress.
            return {**person_document(acct), "type": "Group", "location": group.get("location")}

        peer.actor_document = group_document  # type: ignore[method-assign]
    return a, peer, account, call


def _answers(peer: FakePeer, kind: str) -> list[dict[str, Any]]:
    return [post.activity for post in peer.inbox_posts if post.type == kind]


async def _count(instance: Instance, call_uri: str) -> int:
    async with instance.ctx.sessions() as session:
        return len(await accepted_pledges(session, call_uri))


async def test_a_mobilizon_group_pledge_is_accepted_with_the_join_embedded(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a, peer, group, call = await _setup(net, fixtures_dir, as_group=True)
    join = _mobilizon(fixtures_dir, "join_event.json", peer, group, call.uri)
    join["participationMessage"] = "On sera 40"

    assert (await peer.send(a, join)).status_code == 202
    await net.settle()

    [accept] = _answers(peer, "Accept")
    assert accept["actor"] == "http://a.test/g/tenants"
    assert {k: accept["object"][k] for k in ("id", "type", "actor", "object")} == {
        "id": join["id"], "type": "Join", "actor": group.id, "object": call.uri,
    }
    async with a.ctx.sessions() as session:
        row = await session.scalar(select(Pledge).where(Pledge.uri == join["id"]))
        served = await session.get(StoredObject, call.id)
    assert row is not None and row.state == "accepted" and row.message == "On sera 40"
    assert served is not None and served.data["participantCount"] == 1

    leave = _mobilizon(fixtures_dir, "leave_event.json", peer, group, call.uri)
    assert (await peer.send(a, leave)).status_code == 202
    await net.settle()
    assert await _count(a, call.uri) == 0


async def test_undo_of_a_join_withdraws_the_pledge(net: FederationNet, fixtures_dir: Path) -> None:
    a, peer, group, call = await _setup(net, fixtures_dir, as_group=True)
    join = _mobilizon(fixtures_dir, "join_event.json", peer, group, call.uri)
    await peer.send(a, join)
    await net.settle()
    assert await _count(a, call.uri) == 1

    undo = {"@context": "https://www.w3.org/ns/activitystreams", "id": peer.new_id(group), "type": "Undo",
            "actor": group.id, "object": {k: join[k] for k in ("id", "type", "actor", "object")}}
    assert (await peer.send(a, undo)).status_code == 202
    await net.settle()
    assert await _count(a, call.uri) == 0


async def test_a_person_joining_is_told_pledges_are_for_coalitions(net: FederationNet, fixtures_dir: Path) -> None:
    a, peer, person, call = await _setup(net, fixtures_dir, as_group=False)
    join = _mobilizon(fixtures_dir, "join_event.json", peer, person, call.uri)

    assert (await peer.send(a, join)).status_code == 202
    await net.settle()

    [reject] = _answers(peer, "Reject")
    assert reject["object"]["id"] == join["id"] and reject["object"]["type"] == "Join"
    assert _answers(peer, "Accept") == [] and await _count(a, call.uri) == 0


async def test_a_cancelled_call_rejects_new_pledges(net: FederationNet, fixtures_dir: Path) -> None:
    a, peer, group, call = await _setup(net, fixtures_dir, as_group=True)
    await committed(a.ctx, calls.cancel_call, call.uri, "Permit refused")
    await net.settle()

    await peer.send(a, _mobilizon(fixtures_dir, "join_event.json", peer, group, call.uri))
    await net.settle()

    assert len(_answers(peer, "Reject")) == 1 and await _count(a, call.uri) == 0


async def test_a_join_of_something_that_is_not_our_call_changes_nothing(net: FederationNet, fixtures_dir: Path) -> None:
    a, peer, group, call = await _setup(net, fixtures_dir, as_group=True)
    join = _mobilizon(fixtures_dir, "join_event.json", peer, group, "http://a.test/o/no-such-call")

    assert (await peer.send(a, join)).status_code == 202
    await net.settle()

    assert _answers(peer, "Accept") == [] and _answers(peer, "Reject") == []
    async with a.ctx.sessions() as session:
        assert (await session.scalars(select(Pledge))).all() == []


async def test_a_coalition_pledges_to_a_mobilizon_event_and_reads_its_accept(
    net: FederationNet, fixtures_dir: Path
) -> None:
    from fedihub.pledges import service as pledges

    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Paris Tenants")
    peer = add_fake_peer(net, "mobilizon.test", fixtures_dir, usernames=("collectif",))
    group = peer.accounts["collectif"]
    event = json.loads((fixtures_dir / "mobilizon" / "event.json").read_text())
    start = net.clock() + timedelta(days=20)
    event.update(id=f"http://mobilizon.test/events/{peer.new_id().rsplit('/', 1)[-1]}", attributedTo=group.id,
                 actor=group.id, startTime=start.isoformat(), endTime=(start + timedelta(hours=2)).isoformat())
    event["url"] = event["id"]
    peer.serve(event)

    row = await committed(
        a.ctx, pledges.pledge, "tenants", await get_call_target(a.ctx, event["id"]), message="Nous serons là"
    )
    await net.settle()

    [join] = [post.activity for post in peer.inbox_posts if post.type == "Join"]
    assert (join["actor"], join["object"], join["participationMessage"]) == (
        "http://a.test/g/tenants", event["id"], "Nous serons là"
    )
    # Mobilizon's Accept, as captured: the Join embedded with its id, actor and object.
    accept = json.loads((fixtures_dir / "mobilizon" / "accept_join.json").read_text())
    accept.update(id=peer.new_id(group), actor=group.id)
    accept["object"].update(id=join["id"], actor=join["actor"], object=event["id"])
    assert (await peer.send(a, accept)).status_code == 202
    await net.settle()

    async with a.ctx.sessions() as session:
        mine = await session.scalar(select(Pledge).where(Pledge.uri == row.uri))
    assert mine is not None and mine.state == "accepted"
