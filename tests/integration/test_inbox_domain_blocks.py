"""Domain blocks hold whatever spelling a blocked server uses for its ids: user-info, a trailing dot,
a port, Unicode or punycode; nothing it sends is kept and nothing of ours is ever sent to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.federation.blocks import block_domain
from fedihub.hubs import service as hubs
from fedihub.protocol.hosts import host_of
from fedihub.storage.models import Activity, Actor, Boost, Delivery, Follow, InboxItem
from tests.integration.helpers import count_rows, follow_peer, followed_by
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer
from tests.support.network import FederationNet, Instance


def hostile_server(net: FederationNet, fixtures_dir: Path, ids_host: str, *served_at: str) -> FakePeer:
    """A server whose ids are written with ``ids_host`` (``x@blocked.test``), answering at ``served_at``."""
    peer = FakePeer(host=ids_host, fixtures_dir=fixtures_dir, clock=net.clock)
    peer.add_account("mallory")
    for host in served_at:
        net.add_handler(host, peer.handle)
    return peer


async def store_as_before_the_fix(a: Instance, mallory: FakeAccount, domain: str, *, actor_type: str) -> Actor:
    """mallory's actor row as fedihub stored it while user-info was still part of the host."""
    now = a.ctx.clock()
    async with a.ctx.sessions.begin() as session:
        actor = Actor(
            uri=mallory.id, type=actor_type, username=mallory.username, domain=domain, inbox=mallory.inbox,
            shared_inbox=mallory.shared_inbox, public_key_id=mallory.key_id,
            public_key_pem=mallory.keys.public_pem, fetched_at=now, created_at=now, updated_at=now,
        )
        session.add(actor)
    return actor


async def test_a_follow_from_a_userinfo_actor_id_of_a_blocked_server_is_refused_and_never_answered(
    net: FederationNet, a: Instance, tenants: Actor, fixtures_dir: Path
) -> None:
    await committed(a.ctx, block_domain, "blocked.test", reason="harassment")
    hostile = hostile_server(net, fixtures_dir, "x@blocked.test", "blocked.test")
    mallory = hostile.accounts["mallory"]
    follow = hostile.build_follow(mallory, tenants.uri)
    assert follow["actor"] == "http://x@blocked.test/users/mallory"

    response = await hostile.send(a, follow)

    assert response.status_code == 400
    assert response.text == "ids with a user name before the host (http://name@host/…) are not accepted"
    assert await count_rows(a, InboxItem) == 0
    await net.settle()
    assert await count_rows(a, Follow) == 0
    assert hostile.requests == [], "neither a key fetch nor an Accept may reach the blocked server"


@pytest.mark.parametrize(
    "field", ["id", "object", "attributedTo"], ids=["activity id", "object id", "object's author"]
)
async def test_userinfo_anywhere_in_an_activitys_ids_is_refused(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, field: str
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice)
    sneaky = create["object"]["id"].replace("http://masto.test", "http://x@blocked.test")
    if field == "id":
        create["id"] = create["id"].replace("http://masto.test", "http://x@masto.test")
    elif field == "object":
        create["object"]["id"] = sneaky
    else:
        create["object"]["attributedTo"] = "http://x@blocked.test/users/mallory"

    response = await peer.send(a, create)

    assert response.status_code == 400
    assert await count_rows(a, InboxItem, InboxItem.activity_type == "Create") == 0


BLOCK_SPELLINGS = {
    # (the block as an admin typed it, the host the hostile server writes in its ids)
    "unicode block, punycode ids": ("Bücher.test", "xn--bcher-kva.test"),
    "punycode block, unicode ids": ("xn--bcher-kva.test", "bücher.test"),
    "ids with a trailing dot": ("blocked.test", "blocked.test."),
    "ids with a port": ("blocked.test", "blocked.test:8443"),
    "block typed with a port": ("blocked.test:8443", "blocked.test"),
    "block with a trailing dot, ids in capitals": ("blocked.test.", "BLOCKED.test"),
    "subdomain ids with a port and a dot": ("blocked.test", "social.blocked.test.:8443"),
}


@pytest.mark.parametrize(("block", "ids_host"), BLOCK_SPELLINGS.values(), ids=list(BLOCK_SPELLINGS))
async def test_a_block_covers_every_spelling_of_the_blocked_host(
    net: FederationNet, a: Instance, tenants: Actor, fixtures_dir: Path, block: str, ids_host: str
) -> None:
    await committed(a.ctx, block_domain, block)
    hostile = hostile_server(net, fixtures_dir, ids_host)
    mallory = hostile.accounts["mallory"]
    # A header is ASCII: the keyId is written in punycode even when the ids are not.
    key_id = mallory.key_id.replace(ids_host, host_of(f"http://{ids_host}/"))

    response = await hostile.send(a, hostile.build_follow(mallory, tenants.uri), key_id=key_id)

    assert response.status_code == 403
    assert await count_rows(a, InboxItem) == 0
    await net.settle()
    assert await count_rows(a, Delivery) == 0


async def test_no_delivery_reaches_a_blocked_server_whatever_spelling_it_was_queued_under(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    hostile = hostile_server(net, fixtures_dir, "x@blocked.test", "blocked.test", "blocked.test:8443")
    mallory = hostile.accounts["mallory"]
    # mallory followed tenants before the block, under the id her server gave her.
    follower = await store_as_before_the_fix(a, mallory, "x@blocked.test", actor_type="Person")
    now = a.ctx.clock()
    async with a.ctx.sessions.begin() as session:
        session.add(Follow(uri=f"{mallory.id}/follows/1", follower_id=follower.id, target_id=tenants.id,
                           state="accepted", created_at=now, updated_at=now))
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    await committed(a.ctx, block_domain, "Blocked.Test.")
    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike meeting on Thursday")
    # Rows an older version queued for the same post under spellings its block check missed.
    async with a.ctx.sessions.begin() as session:
        activity_id = await session.scalar(select(Activity.id).where(Activity.object_uri == note.uri))
        for inbox, domain in [("http://x@blocked.test/inbox", "x@blocked.test"),
                              ("http://blocked.test:8443/inbox", "blocked.test:8443")]:
            session.add(Delivery(activity_id=activity_id, inbox_url=inbox, domain=domain, state="pending",
                                 attempts=0, next_attempt_at=now, created_at=now))
    await net.settle()

    assert len(peer.received("Create")) == 1
    assert hostile.requests == [], "nothing may be sent to a blocked server"
    assert await count_rows(a, Follow, Follow.follower_id == follower.id) == 0, "the block ends its follow"
    async with a.ctx.sessions() as session:
        refused = (await session.scalars(select(Delivery).where(Delivery.domain != "masto.test"))).all()
    assert {(d.state, d.last_error) for d in refused} == {("dead", "domain blocked")}


async def test_a_hub_never_boosts_the_call_of_a_member_on_a_blocked_server(
    net: FederationNet, a: Instance, fixtures_dir: Path
) -> None:
    hub = await committed(a.ctx, hubs.create_hub, "national", name="National Hub", scope="national")
    hostile = hostile_server(net, fixtures_dir, "x@blocked.test", "blocked.test")
    mallory = hostile.accounts["mallory"]
    # mallory's group was a member of the hub before its server was blocked.
    member = await store_as_before_the_fix(a, mallory, "x@blocked.test", actor_type="Group")
    now = a.ctx.clock()
    async with a.ctx.sessions.begin() as session:
        session.add(Follow(uri="http://a.test/a/member-1", follower_id=hub.id, target_id=member.id,
                           state="accepted", created_at=now, updated_at=now))
    await committed(a.ctx, block_domain, "blocked.test")

    response = await hostile.send(a, hostile.build_create(mallory, object_type="Event"))
    await net.settle()

    assert response.status_code == 400
    assert await count_rows(a, Boost) == 0
    assert await count_rows(a, Follow) == 0, "the block ends the membership"
    assert hostile.requests == []
