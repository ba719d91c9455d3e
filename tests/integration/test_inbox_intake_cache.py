"""The inbox keeps keys and blocks in memory, yet a block or a key change holds from the very next request.

Each test is the attack: a server whose key this instance already has in memory keeps sending after
it was blocked, or signs with a key its actor no longer has (rotated, or the actor deleted), whether
the change was made in this process or by another one (the CLI, a separate worker).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from fedihub.federation.blocks import block_domain, unblock_domain
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Actor, DomainBlock, InboxItem
from tests.integration.helpers import count_rows
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, key_pair
from tests.support.network import FederationNet, Instance


async def known_sender(a: Instance, peer: FakePeer) -> FakeAccount:
    """alice, after one accepted post: her key is in the instance's memory from then on."""
    alice = peer.accounts["alice"]
    assert (await peer.send(a, peer.build_create(alice))).status_code == 202
    assert a.ctx.key_cache.find(alice.key_id) is not None, "the attack needs the key in memory"
    return alice


async def test_a_blocked_servers_next_post_is_refused_though_its_key_is_in_memory(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = await known_sender(a, peer)
    await committed(a.ctx, block_domain, "masto.test", reason="spam wave")
    requests_before = len(peer.requests)

    response = await peer.send(a, peer.build_create(alice))

    assert response.status_code == 403
    assert await count_rows(a, InboxItem) == 1
    assert len(peer.requests) == requests_before, "nothing may be fetched from a blocked server"


async def test_an_unblocked_server_is_heard_again_at_once(a: Instance, peer: FakePeer, tenants: Actor) -> None:
    alice = await known_sender(a, peer)
    await committed(a.ctx, block_domain, "masto.test")
    assert (await peer.send(a, peer.build_create(alice))).status_code == 403

    await committed(a.ctx, unblock_domain, "masto.test")

    assert (await peer.send(a, peer.build_create(alice))).status_code == 202
    assert await count_rows(a, InboxItem) == 2


async def test_a_block_written_by_another_process_is_refused_by_the_next_post(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = await known_sender(a, peer)
    # What `fedihub block` run beside the server does: a row this process's memory never hears of.
    async with a.ctx.sessions.begin() as session:
        session.add(DomainBlock(domain="masto.test", reason="from the CLI", created_at=datetime.now(UTC)))

    response = await peer.send(a, peer.build_create(alice))

    assert response.status_code == 403
    assert await count_rows(a, InboxItem) == 1


def actor_update(peer: FakePeer, account: FakeAccount) -> dict:
    """Mastodon's Update of an account: the whole actor document again (here with its new key)."""
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": f"{account.id}#updates/{len(peer.requests)}", "type": "Update", "actor": account.id,
        "to": [PUBLIC], "object": peer.actor_document(account),
    }


async def test_a_stolen_old_key_is_refused_right_after_the_actor_rotated_it(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = await known_sender(a, peer)
    old_keys = alice.keys
    peer.rotate_key(alice, key_pair(91))
    # Signed with the new key: the instance picks the new key up, and stores it again from the Update.
    assert (await peer.send(a, actor_update(peer, alice))).status_code == 202
    await net.settle()

    response = await peer.send(a, peer.build_create(alice), keys=old_keys)

    assert response.status_code == 401
    assert await count_rows(a, InboxItem, InboxItem.activity_type == "Create") == 1


async def test_a_key_rotated_by_another_process_refuses_the_old_signature_at_once(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = await known_sender(a, peer)
    old_keys = alice.keys
    peer.rotate_key(alice, key_pair(92))
    # A worker in another process stored alice's Update: this process's memory still has the old key.
    async with a.ctx.sessions.begin() as session:
        await session.execute(
            update(Actor).where(Actor.uri == alice.id).values(public_key_pem=alice.keys.public_pem)
        )

    response = await peer.send(a, peer.build_create(alice), keys=old_keys)

    assert response.status_code == 401
    assert await count_rows(a, InboxItem) == 1
    assert (await peer.send(a, peer.build_create(alice))).status_code == 202, "the new key is good"


async def test_the_key_of_a_deleted_actor_signs_nothing_after_its_delete(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = await known_sender(a, peer)
    assert (await peer.send(a, peer.build_delete_actor(alice))).status_code == 202
    await net.settle()
    alice.gone = True  # her server answers 410 from now on; her private key may be anywhere

    response = await peer.send(a, peer.build_create(alice))

    assert response.status_code == 401
    assert await count_rows(a, InboxItem, InboxItem.activity_type == "Create") == 1
