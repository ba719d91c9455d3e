"""Forged signatures cannot make this server fetch keys at will: at most a few fetches per remote host
per window, a failed key is not fetched again for a while, and a keyId on another server than the
activity's actor is refused before anything is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fedihub.coalitions import service
from fedihub.protocol.signatures import sign_request_headers
from fedihub.storage.models import Actor, InboxItem
from tests.integration.helpers import count_rows
from tests.support.edges import committed
from tests.support.fake_peer import ACTIVITY_JSON, FakePeer, add_fake_peer, key_pair
from tests.support.network import FederationNet, Instance

LIMIT = 5


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    return await net.add_instance("a.test", key_fetches_per_host=LIMIT, rate_window_seconds=60,
                                  key_failure_seconds=300)


def follow_from(actor: str, target: str) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/follows/1", "type": "Follow",
            "actor": actor, "object": target}


def key_gets(peer: FakePeer) -> list[httpx.Request]:
    return [request for request in peer.requests if request.method == "GET"]


async def test_posts_with_distinct_unknown_key_ids_fetch_at_most_the_limit_from_that_host(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    alice = peer.accounts["alice"]
    answers = []
    for n in range(20):
        ghost = f"http://masto.test/users/ghost{n}"
        answers.append(await peer.send(a, follow_from(ghost, tenants.uri), signer=alice, key_id=f"{ghost}#main-key"))

    assert len(key_gets(peer)) == LIMIT
    assert [r.status_code for r in answers[:LIMIT]] == [401] * LIMIT
    assert {r.status_code for r in answers[LIMIT:]} == {429}
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers[LIMIT:])
    assert await count_rows(a, InboxItem) == 0

    # Another server's new actors are still looked up and let in.
    other = add_fake_peer(net, "other.test", fixtures_dir, usernames=("bob",))
    bob = other.accounts["bob"]
    assert (await other.send(a, other.build_follow(bob, tenants.uri))).status_code == 202

    # A window later the host may cause fetches again, but a key that failed is not fetched again ...
    net.clock.advance(seconds=61)
    again = await peer.send(a, follow_from("http://masto.test/users/ghost0", tenants.uri), signer=alice,
                            key_id="http://masto.test/users/ghost0#main-key")
    assert again.status_code == 401
    assert len(key_gets(peer)) == LIMIT
    # ... until the failure is forgotten.
    net.clock.advance(seconds=300)
    await peer.send(a, follow_from("http://masto.test/users/ghost0", tenants.uri), signer=alice,
                    key_id="http://masto.test/users/ghost0#main-key")
    assert len(key_gets(peer)) == LIMIT + 1


async def test_a_key_id_on_a_third_party_server_is_refused_before_anything_is_fetched(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    victim = add_fake_peer(net, "victim.test", fixtures_dir, usernames=("carol",))
    alice = peer.accounts["alice"]

    answers = [
        await peer.send(a, peer.build_follow(alice, tenants.uri), key_id=f"http://victim.test/keys/{n}",
                        keys=key_pair(99))
        for n in range(20)
    ]

    assert {r.status_code for r in answers} == {401}
    assert answers[0].text == "the signing key is not on the activity's actor's server"
    assert victim.requests == [], "no request may be reflected at a third party"
    assert peer.requests == []
    assert await count_rows(a, InboxItem) == 0


async def test_a_known_key_with_garbage_signatures_is_refetched_once_per_period(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202
    assert peer.fetches_of(alice.id) == 1

    answers = [await peer.send(a, peer.build_like(alice, tenants.uri), keys=key_pair(99)) for _ in range(20)]

    assert {r.status_code for r in answers} == {401}
    assert peer.fetches_of(alice.id) == 2, "one refetch for a possible key rotation, not one per request"


async def test_a_rotated_key_is_still_picked_up(a: Instance, peer: FakePeer, tenants: Actor) -> None:
    alice = peer.accounts["alice"]
    assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202
    peer.rotate_key(alice, key_pair(42))

    assert (await peer.send(a, peer.build_like(alice, tenants.uri))).status_code == 202


async def test_signed_gets_with_key_ids_at_a_third_party_reflect_at_most_the_limit_at_it(
    net: FederationNet, peer: FakePeer, fixtures_dir: Path
) -> None:
    # Under authorized fetch a GET names no actor, so its keyId cannot be checked against one: the
    # per-host limit is what stops the reflection.
    c = await net.add_instance("c.test", authorized_fetch=True, key_fetches_per_host=LIMIT)
    await committed(c.ctx, service.create_coalition, "tenants", name="Tenants Union")
    victim = add_fake_peer(net, "victim.test", fixtures_dir, usernames=("carol",))
    forger = peer.accounts["alice"]

    answers = []
    for n in range(20):
        headers = {"Accept": ACTIVITY_JSON}
        headers |= sign_request_headers(method="GET", url="http://c.test/g/tenants", headers=headers, body=None,
                                        key_id=f"http://victim.test/page/{n}#key",
                                        private_key=forger.keys.private_pem, now=net.clock())
        answers.append(await c.get("/g/tenants", headers=headers))

    assert len(victim.requests) == LIMIT
    assert {r.status_code for r in answers[LIMIT:]} == {429}
