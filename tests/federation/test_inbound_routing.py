"""Every documented kind of inbound activity finds exactly its one route in a server's real data: each
example below is what a peer sends, classified against a server that has follows, a hub, a call,
pledges both ways, a hub join request and stored posts — as a busy fedihub server does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.federation.routing import Inbound
from fedihub.hubs import membership
from fedihub.hubs import service as hubs
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.protocol.reader import read_activity
from fedihub.storage.models import Actor, Pledge, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _call(net: FederationNet, title: str) -> calls.CallInput:
    start = net.clock() + timedelta(days=20)
    return calls.CallInput(title=title, description="", start=start, end=start + timedelta(hours=2),
                           timezone="America/Chicago", place_name="City Hall")


async def _busy_server(net: FederationNet, fixtures_dir: Path) -> tuple[Instance, FakePeer, dict[str, Any]]:
    """a.test with its coalition, hub and call; b.test with a coalition, hub and call; alice on Mastodon."""
    a, b = await net.add_instance("a.test"), await net.add_instance("b.test")
    peer = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice",))
    alice = peer.accounts["alice"]
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    hub = await committed(a.ctx, hubs.create_hub, "state-hub", name="State Hub", scope="state")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Rent strike"))
    renters = await committed(b.ctx, service.create_coalition, "renters", name="Renters")
    await committed(b.ctx, hubs.create_hub, "b-hub", name="B Hub", scope="regional")
    b_call = await committed(b.ctx, calls.publish_call, "renters", _call(net, "March"))
    await net.settle()

    # Ours to others: a follow of alice (answered below), a hub join request, a pledge to b's call.
    our_follow = await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, alice.id))
    request = await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "b-hub@b.test"))
    our_pledge = await committed(a.ctx, pledges.pledge, "tenants", await get_call_target(a.ctx, b_call.uri))
    # Others to ours: renters pledges to our call; alice follows, likes, and posts once we follow her.
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri))
    await net.settle()
    follow_sent = next(doc for doc in peer.received("Follow") if doc["object"] == alice.id)
    await peer.send(a, peer.build_accept(alice, follow_sent))
    alice_follow = peer.build_follow(alice, tenants.uri)
    like = peer.build_like(alice, call.uri)
    create = peer.build_create(alice)
    for activity in (alice_follow, like, create):
        assert (await peer.send(a, activity)).status_code == 202
    await net.settle()

    async with a.ctx.sessions() as session:
        renters_join = await session.scalar(
            select(Pledge.uri).where(Pledge.call_uri == call.uri, Pledge.coalition_uri == renters.uri)
        )
        b_call_copy = await session.scalar(select(StoredObject).where(StoredObject.uri == b_call.uri))
        note_stored = await session.scalar(select(StoredObject.id).where(StoredObject.uri == create["object"]["id"]))
    assert renters_join and b_call_copy is not None and note_stored is not None
    return a, peer, {
        "alice": alice.id, "tenants": tenants.uri, "hub": hub.uri, "call": call.uri, "renters": renters.uri,
        "b_hub": "http://b.test/g/b-hub", "b_call": b_call.uri, "b_pledges": b_call_copy.data["pledges"],
        "our_follow": our_follow.uri, "request": request.uri, "our_pledge": our_pledge.uri,
        "renters_join": renters_join, "alice_follow": alice_follow, "like": like, "note": create["object"],
        "alice_document": peer.actor_document(alice),
    }


def _examples(w: dict[str, Any]) -> list[tuple[tuple[str, str] | None, dict[str, Any]]]:
    """(expected route, activity): every documented route, and activities nothing here is about."""
    def act(kind: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
        return {"id": f"{actor}#{kind}-{len(str(obj))}", "type": kind, "actor": actor, "object": obj, **extra}

    summary = {"id": w["b_pledges"], "type": "OrderedCollection", "pledgesOf": w["b_call"], "totalItems": 1}
    renters_join = {"id": w["renters_join"], "type": "Join", "actor": w["renters"], "object": w["call"]}
    join_of_hub = {"id": f"{w['renters']}#join-hub", "type": "Join", "actor": w["renters"], "object": w["hub"]}
    edited_note = {**w["note"], "content": "<p>Edited</p>"}
    item = {"id": f"{w['renters']}#join-b", "type": "Join", "actor": w["renters"], "object": w["b_call"]}
    return [
        (("Follow", "local actor"), act("Follow", w["alice"], w["tenants"])),
        (("Accept", "our Follow"), act("Accept", w["alice"], w["our_follow"])),
        (("Accept", "our hub join request"), act("Accept", w["b_hub"], w["request"])),
        (("Accept", "our pledge"), act("Accept", w["renters"], w["our_pledge"])),
        (("Reject", "our Follow"), act("Reject", w["alice"], w["our_follow"])),
        (("Reject", "our hub join request"), act("Reject", w["b_hub"], w["request"])),
        (("Reject", "our pledge"), act("Reject", w["renters"], w["our_pledge"])),
        (("Undo", "Follow"), act("Undo", w["alice"], w["alice_follow"])),
        (("Undo", "Follow"), act("Undo", w["alice"], w["alice_follow"]["id"])),  # named by id only
        (("Undo", "reaction"), act("Undo", w["alice"], w["like"])),
        (("Undo", "reaction"), act("Undo", w["alice"], w["like"]["id"])),
        (("Undo", "Join of a hub"), act("Undo", w["renters"], join_of_hub)),
        (("Undo", "Join of a call"), act("Undo", w["renters"], renters_join)),
        (("Create", "object"), act("Create", w["alice"], w["note"])),
        (("Update", "the actor itself"), act("Update", w["alice"], w["alice_document"])),
        (("Update", "stored object"), act("Update", w["alice"], edited_note)),
        (("Update", "our pledge (its report)"), act("Update", w["renters"], renters_join)),
        (("Update", "roll-up of a call we show"), act("Update", w["renters"], summary)),
        (("Delete", "the actor itself"), act("Delete", w["alice"], w["alice"])),
        (("Delete", "object"), act("Delete", w["alice"], w["note"]["id"])),
        (("Announce", "object"), act("Announce", w["alice"], w["call"], to=[PUBLIC])),
        (("Like", "object"), act("Like", w["alice"], w["call"])),
        (("Join", "hub"), act("Join", w["renters"], w["hub"])),
        (("Join", "call"), act("Join", w["renters"], w["call"])),
        (("Leave", "hub"), act("Leave", w["renters"], w["hub"])),
        (("Leave", "call"), act("Leave", w["renters"], w["call"])),
        (("Add", "pledge to a call we show"), act("Add", w["renters"], item, target=summary)),
        (("Remove", "pledge from a call we show"), act("Remove", w["renters"], item["id"], target=summary)),
        (("Flag", "local actors or posts"), act("Flag", w["alice"], [w["tenants"], w["call"]])),
        # Nothing here is about these: no route, so the activity is ignored.
        (None, act("Accept", w["alice"], "http://masto.test/never-sent")),
        (None, act("Join", w["renters"], w["b_call"])),  # a Join of a call on another server
        (None, act("Undo", w["renters"], w["alice_follow"])),  # alice's Follow, undone by someone else
        (None, act("Add", w["alice"], item, target=summary)),  # not the call's author
        (None, act("Follow", w["alice"], "http://a.test/actor")),  # the instance actor takes no followers
        (None, act("Flag", w["alice"], ["http://masto.test/users/bob"])),  # a report about nothing of ours
    ]


async def test_every_kind_of_inbound_activity_finds_exactly_its_route(net: FederationNet, fixtures_dir: Path) -> None:
    a, _peer, world = await _busy_server(net, fixtures_dir)
    routes = a.runtime.processor.routes
    seen: set[tuple[str, str]] = set()
    wrong = []
    for expected, doc in _examples(world):
        async with a.ctx.sessions() as session:
            actor = await session.scalar(select(Actor).where(Actor.uri == doc["actor"]))
            assert actor is not None, doc["actor"]
            routed = await routes.classify(a.ctx, session, Inbound(activity=read_activity(doc), actor=actor))
        found = routed.route.key if routed is not None else None
        if found != expected:
            wrong.append(f"{doc['type']} {str(doc['object'])[:80]}: expected {expected}, got {found}")
        if found is not None:
            seen.add(found)
    assert wrong == []
    assert seen == {route.key for route in routes}  # every route of the table was reached
