"""Attacks of landscape §D classes 1–6 and 12 that no other test sends as a hostile server would:
a key document that names someone else as its owner, a captured delivery replayed later, a fetched
document claiming another id, an Announce embedding a doctored copy, a Delete or Update from someone who
does not own the object, and attachments whose names are paths."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fedihub.storage.models import Actor, InboxItem, StoredObject
from tests.integration.helpers import count_rows, find_object, follow_peer
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance


@pytest.fixture
def evil(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    """Another server, run by the attacker; its one account has a key nobody else uses."""
    server = FakePeer(host="evil.test", fixtures_dir=fixtures_dir, clock=net.clock)
    server.add_account("mallory", key_slot=77)
    net.add_handler(server.host, server.handle)
    return server


def served_event(peer: FakePeer, name: str = "Tenants' assembly at the library") -> dict:
    event = peer.build_create(peer.accounts["alice"], object_type="Event")["object"]
    event["name"] = name
    peer.serve(event)
    return event


# --- 1. Actor/key mismatch -----------------------------------------------------------------------


async def test_a_key_document_on_the_attackers_server_claiming_the_victim_as_owner_is_refused(
    net: FederationNet, a: Instance, peer: FakePeer, evil: FakePeer, tenants: Actor
) -> None:
    mallory, alice = evil.accounts["mallory"], peer.accounts["alice"]
    key_id = "http://evil.test/keys/1"
    evil.serve({"@context": "https://w3id.org/security/v1", "id": key_id, "type": "Key",
                "owner": alice.id, "controller": alice.id, "publicKeyPem": mallory.keys.public_pem})

    response = await peer.send(a, peer.build_follow(alice, tenants.uri), key_id=key_id, keys=mallory.keys)

    assert response.status_code == 401
    assert await count_rows(a, InboxItem) == 0
    await net.settle()
    assert peer.received("Accept") == []


# --- 2. Signature not bound to the request ---------------------------------------------------------


async def test_a_captured_delivery_replayed_hours_later_is_refused_and_replayed_at_once_changes_nothing(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    captured: dict[str, httpx.Request] = {}
    original = a.post

    async def capture(path: str, **kwargs):  # type: ignore[no-untyped-def]
        captured["request"] = kwargs
        return await original(path, **kwargs)

    a.post = capture  # type: ignore[method-assign]
    assert (await peer.send(a, follow)).status_code == 202
    a.post = original  # type: ignore[method-assign]
    replay = captured["request"]

    assert (await a.post("/inbox", **replay)).status_code == 202  # the same bytes again: deduplicated
    net.clock.advance(hours=2)
    late = await a.post("/inbox", **replay)
    await net.settle()

    assert late.status_code == 401
    assert await count_rows(a, InboxItem, InboxItem.activity_uri == follow["id"]) == 1
    assert len(peer.received("Accept")) == 1


# --- 3. Self-reported id on fetch -------------------------------------------------------------------


async def test_a_document_served_under_one_url_claiming_another_id_is_not_stored_as_either(
    net: FederationNet, a: Instance, peer: FakePeer, evil: FakePeer, tenants: Actor
) -> None:
    bob, alice = peer.accounts["bob"], peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", bob)
    genuine = served_event(peer)
    impostor = dict(genuine, name="Assembly cancelled, stay home")
    evil.documents["http://evil.test/notes/1"] = impostor  # served at one URL, claiming alice's id

    boost = peer.build_announce(bob, "http://evil.test/notes/1", alice.id)
    assert (await peer.send(a, boost)).status_code == 202
    await net.settle()

    assert await find_object(a, genuine["id"]) is None
    assert await find_object(a, "http://evil.test/notes/1") is None


# --- 4. Content-type confusion ----------------------------------------------------------------------


async def test_an_uploaded_file_is_never_served_as_an_activitypub_document(a: Instance) -> None:
    response = await a.get("/media/anything.png", headers={"Accept": "application/activity+json"})

    assert response.status_code == 404
    assert "activity+json" not in response.headers.get("content-type", "")


# --- 5. Embedded-object forgery -----------------------------------------------------------------------


async def test_a_boost_embedding_a_doctored_copy_stores_the_origins_version(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    bob, alice = peer.accounts["bob"], peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", bob)
    genuine = served_event(peer)
    doctored = dict(genuine, name="Assembly moved to the police station", startTime="2030-05-02T03:00:00Z")
    boost = peer.build_announce(bob, genuine["id"], alice.id)
    boost["object"] = doctored

    assert (await peer.send(a, boost)).status_code == 202
    await net.settle()

    stored = await find_object(a, genuine["id"])
    assert stored is not None and stored.name == genuine["name"]
    assert stored.start_time is not None and stored.start_time.isoformat().startswith("2030-05-01T18:00")


# --- 6. Forged Delete and Update ----------------------------------------------------------------------


async def test_only_the_owner_may_delete_or_update_a_post(
    net: FederationNet, a: Instance, peer: FakePeer, evil: FakePeer, tenants: Actor
) -> None:
    alice, bob, mallory = peer.accounts["alice"], peer.accounts["bob"], evil.accounts["mallory"]
    await follow_peer(net, a, peer, "tenants", alice)
    await follow_peer(net, a, evil, "tenants", mallory)
    create = peer.build_create(alice, object_type="Event")
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    object_id = create["object"]["id"]

    forged_delete = evil.build_delete(mallory, object_id)  # another server
    forged_delete["id"] = f"{mallory.id}#deletes/1"
    forged_update = peer.build_update(create, content="<p>Cancelled!</p>")  # a neighbour on the same server
    forged_update["actor"] = bob.id
    forged_update["id"] = f"{bob.id}#updates/1"
    forged_update["object"]["startTime"] = "2030-05-02T03:00:00Z"
    for activity, server in ((forged_delete, evil), (forged_update, peer)):
        assert (await server.send(a, activity)).status_code == 202
    await net.settle()

    stored = await find_object(a, object_id)
    assert stored is not None and stored.deleted_at is None
    assert "Cancelled!" not in (stored.content or "")
    assert stored.start_time is not None and stored.start_time.isoformat().startswith("2030-05-01T18:00")


# --- 12. Media --------------------------------------------------------------------------------------


async def test_attachments_named_like_paths_are_never_fetched_or_written(
    net: FederationNet, a: Instance, peer: FakePeer, evil: FakePeer, tenants: Actor, tmp_path: Path
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice)
    create["object"]["attachment"] = [
        {"type": "Document", "mediaType": "image/svg+xml", "name": "../../../../tmp/pwned",
         "url": "http://evil.test/../../etc/passwd"},
        {"type": "Image", "mediaType": "image/png", "name": "/etc/cron.d/x", "url": "http://evil.test/bomb.png"},
    ]

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    assert await find_object(a, create["object"]["id"]) is not None
    assert [r for r in evil.requests if "bomb" in str(r.url) or "passwd" in str(r.url)] == []
    assert not Path("/tmp/pwned").exists()
    async with a.ctx.sessions() as session:
        stored = await session.scalar(select(StoredObject).where(StoredObject.uri == create["object"]["id"]))
    assert stored is not None and "pwned" not in json.dumps(stored.content or "")
