"""Posts and reactions from a Mastodon server: what is stored, updated, tombstoned or ignored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.storage.models import Actor, Reaction, StoredObject
from tests.integration.helpers import count_rows, find_object, follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance


@pytest.mark.parametrize("object_type", ["Note", "Article", "Page", "Event"])
async def test_posts_from_a_followed_account_are_stored_updated_and_tombstoned(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, object_type: str
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, object_type=object_type, content="<p>Meet at <b>noon</b><script>x()</script></p>")
    object_id = create["object"]["id"]

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    stored = await find_object(a, object_id)
    assert stored is not None and stored.type == object_type
    assert stored.content == "<p>Meet at <b>noon</b></p>"  # remote HTML is sanitised before storage
    assert stored.visibility == "public"

    assert (await peer.send(a, peer.build_update(create, content="<p>Moved to 1 pm</p>"))).status_code == 202
    await net.settle()
    assert (await find_object(a, object_id)).content == "<p>Moved to 1 pm</p>"  # type: ignore[union-attr]

    assert (await peer.send(a, peer.build_delete(alice, object_id))).status_code == 202
    await net.settle()
    assert (await find_object(a, object_id)).deleted_at is not None  # type: ignore[union-attr]


async def test_posts_from_an_account_nobody_follows_are_ignored(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    await follow_peer(net, a, peer, "tenants", peer.accounts["alice"])
    create = peer.build_create(peer.accounts["bob"])

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    assert await find_object(a, create["object"]["id"]) is None


async def test_a_post_attributed_to_someone_else_is_ignored(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", alice)
    # alice signs a Create whose object claims bob wrote it
    create = peer.build_create(alice, attributed_to=bob.id)

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    assert await count_rows(a, StoredObject, StoredObject.is_local.is_(False)) == 0


async def test_likes_and_boosts_of_our_post_are_recorded(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike on Thursday")

    assert (await peer.send(a, peer.build_like(alice, note.uri))).status_code == 202
    assert (await peer.send(a, peer.build_announce(bob, note.uri, tenants.uri))).status_code == 202
    await net.settle()

    async with a.ctx.sessions() as session:
        reactions = (await session.scalars(select(Reaction).order_by(Reaction.id))).all()
        got = [(r.type, r.object_uri, (await session.get(Actor, r.actor_id)).uri) for r in reactions]  # type: ignore[union-attr]
    assert got == [("Like", note.uri, alice.id), ("Announce", note.uri, bob.id)]
