"""Inboxes as a Mastodon server sees them: what is accepted, refused, stored once, and answered."""

from __future__ import annotations

import json

import pytest

from fedihub.federation.blocks import block_domain
from fedihub.protocol.signatures import sign_request_rfc9421
from fedihub.storage.models import Actor, Delivery, Follow, InboxItem, Reaction
from tests.integration.helpers import count_rows, find_follow, inbox_items, path_of
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, key_pair
from tests.support.network import FederationNet, Instance


async def test_a_signed_mastodon_follow_is_answered_with_an_accept_embedding_it(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)

    response = await peer.send(a, follow, inbox=path_of(tenants.inbox or ""))
    assert response.status_code == 202
    await net.settle()

    [accept] = peer.received("Accept")
    assert accept["actor"] == tenants.uri
    # Mastodon matches the Accept on the embedded Follow's own id (interop-spec §1.7, P7).
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["type"] == "Follow"
    assert accept["object"]["actor"] == alice.id
    assert accept["object"]["object"] == tenants.uri
    assert (await find_follow(a, alice.id, tenants.uri)).state == "accepted"  # type: ignore[union-attr]


async def test_a_follow_signed_with_rfc9421_like_fedify_is_accepted(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    response = await peer.send(a, peer.build_follow(alice, tenants.uri), scheme="rfc9421")
    assert response.status_code == 202
    await net.settle()
    assert len(peer.received("Accept")) == 1


async def test_an_unsigned_activity_is_refused_and_not_stored(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    response = await peer.send(a, peer.build_follow(peer.accounts["alice"], tenants.uri), scheme=None)
    assert response.status_code == 401
    assert await count_rows(a, InboxItem) == 0


FORGERIES = {
    # alice's key id, but a key alice never published
    "signed with another key": dict(key_slot=99),
    # bob signs with his own valid key an activity whose actor is alice
    "key owner is not the actor": dict(signer="bob"),
    # alice signs, but claims an activity id on someone else's server
    "activity id on another host": dict(activity_id="http://elsewhere.test/follows/1"),
    # the body changed after signing (the Digest no longer matches)
    "body tampered after signing": dict(
        after_signing=lambda body: body.replace(b"/g/tenants", b"/g/climate")
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
async def test_forged_activities_are_refused_and_not_stored(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, forgery: str
) -> None:
    options = dict(FORGERIES[forgery])
    follow = peer.build_follow(peer.accounts["alice"], tenants.uri)
    if "activity_id" in options:
        follow["id"] = options.pop("activity_id")
    if "signer" in options:
        options["signer"] = peer.accounts[options["signer"]]
    if "key_slot" in options:
        options["keys"] = key_pair(options.pop("key_slot"))

    response = await peer.send(a, follow, **options)

    assert response.status_code == 401
    assert await count_rows(a, InboxItem) == 0
    await net.settle()
    assert peer.received("Accept") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("Signature-Input", 'sig1=("@method" "@target-uri";created=1'), ("Content-Digest", "sha-256=:YWJj")],
)
async def test_a_malformed_rfc9421_field_is_401_naming_the_header_and_no_key_is_fetched(
    a: Instance, peer: FakePeer, tenants: Actor, field: str, value: str
) -> None:
    alice = peer.accounts["alice"]
    body = json.dumps(peer.build_follow(alice, tenants.uri)).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_request_rfc9421(method="POST", url=a.base_url + "/inbox", headers=headers, body=body,
                                    key_id=alice.key_id, private_key=alice.keys.private_pem, now=peer.clock())

    response = await a.post("/inbox", content=body, headers={**headers, field: value})

    assert response.status_code == 401
    assert response.text == f"the {field} header is not a valid structured field (RFC 9651 dictionary)"
    assert await count_rows(a, InboxItem) == 0
    assert peer.requests == [], "a request that cannot be parsed must not make us fetch a key"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"type": "Follow", "actor": ', id="not JSON"),
        pytest.param(b'["Follow"]', id="not an object"),
        pytest.param(b'{"id": "http://masto.test/1", "actor": "http://masto.test/users/alice"}', id="no type"),
        pytest.param(b'{"id": "http://masto.test/1", "type": "Follow"}', id="no actor"),
    ],
)
async def test_malformed_activities_are_400(a: Instance, peer: FakePeer, body: bytes) -> None:
    response = await peer.send(a, body, scheme=None)
    assert response.status_code == 400
    assert await count_rows(a, InboxItem) == 0


async def test_a_body_over_one_megabyte_is_413(a: Instance, peer: FakePeer, tenants: Actor) -> None:
    follow = peer.build_follow(peer.accounts["alice"], tenants.uri)
    follow["padding"] = "x" * 1_000_001
    response = await peer.send(a, follow)
    assert response.status_code == 413
    assert await count_rows(a, InboxItem) == 0


async def test_a_blocked_domain_is_403_and_nothing_is_stored(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    await committed(a.ctx, block_domain, "masto.test", reason="harassment")

    response = await peer.send(a, peer.build_follow(peer.accounts["alice"], tenants.uri))

    assert response.status_code == 403
    assert await count_rows(a, InboxItem) == 0
    assert peer.requests == [], "a blocked server must not even be asked for its key"


@pytest.mark.parametrize("activity_type", ["Flag", "Arrive"])
async def test_valid_but_unsupported_activities_are_acknowledged_and_ignored(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, activity_type: str
) -> None:
    alice = peer.accounts["alice"]
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": peer.new_id(alice),
        "type": activity_type, "actor": alice.id, "object": [tenants.uri], "content": "spam",
    }

    response = await peer.send(a, activity)
    assert response.status_code == 202
    await net.settle()

    [item] = await inbox_items(a)
    assert (item.state, item.last_error) == ("done", None)
    assert await count_rows(a, Follow) == 0
    assert await count_rows(a, Reaction) == 0
    assert await count_rows(a, Delivery) == 0
    assert peer.inbox_posts == []


@pytest.mark.all_backends  # a unique-row race
async def test_the_same_activity_on_the_shared_and_the_personal_inbox_is_stored_once(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    follow = peer.build_follow(peer.accounts["alice"], tenants.uri)

    first = await peer.send(a, follow, inbox="/inbox")
    second = await peer.send(a, follow, inbox=path_of(tenants.inbox or ""))
    assert (first.status_code, second.status_code) == (202, 202)
    await net.settle()

    assert await count_rows(a, InboxItem) == 1
    assert len(peer.received("Accept")) == 1


async def test_undo_follow_removes_the_follower(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    await peer.send(a, follow)
    await net.settle()
    assert await _follower_count(a) == 1

    response = await peer.send(a, peer.build_undo_follow(alice, follow))
    assert response.status_code == 202
    await net.settle()

    assert await find_follow(a, alice.id, tenants.uri) is None
    assert await _follower_count(a) == 0


async def _follower_count(a: Instance) -> int:
    followers = await a.get("/g/tenants/followers", headers={"Accept": "application/activity+json"})
    return followers.json()["totalItems"]


async def test_a_rotated_key_is_refetched_once_and_the_activity_accepted(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    assert (await peer.send(a, follow)).status_code == 202
    await net.settle()
    fetches_before = peer.fetches_of(alice.id)

    peer.rotate_key(alice, key_pair(90))
    response = await peer.send(a, peer.build_undo_follow(alice, follow))

    assert response.status_code == 202
    assert peer.fetches_of(alice.id) == fetches_before + 1
    await net.settle()
    assert await find_follow(a, alice.id, tenants.uri) is None


async def test_the_delete_of_an_actor_never_seen_is_acknowledged_without_fetching(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    ghost = peer.add_account("ghost", gone=True)

    response = await peer.send(a, peer.build_delete_actor(ghost))

    assert response.status_code == 202
    assert peer.requests == []
    await net.settle()
    assert await count_rows(a, Actor, Actor.uri == ghost.id) == 0
