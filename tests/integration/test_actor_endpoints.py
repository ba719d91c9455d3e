"""Actor, collection and object URLs as Mastodon and browsers fetch them."""

from __future__ import annotations

import pytest

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Actor
from fedihub.web import activitypub
from tests.integration.helpers import AS2, BROWSER, followed_by, path_of
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.mark.parametrize("accept", [AS2, LD_JSON_AS, "application/ld+json"])
async def test_servers_get_activitystreams_from_the_actor_url(a: Instance, tenants: Actor, accept: str) -> None:
    response = await a.get("/g/tenants", headers={"Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    assert response.json()["id"] == tenants.uri == "http://a.test/g/tenants"
    assert "Accept" in response.headers["vary"]


async def test_browsers_get_a_page_from_the_same_url(a: Instance, tenants: Actor) -> None:
    response = await a.get("/g/tenants", headers={"Accept": BROWSER})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Tenants Union" in response.text
    assert "Accept" in response.headers["vary"]


async def test_the_actor_document_has_every_field_mastodon_reads(a: Instance, tenants: Actor) -> None:
    doc = (await a.get("/g/tenants", headers={"Accept": AS2})).json()

    assert doc["type"] == "Group"
    assert doc["preferredUsername"] == "tenants"
    assert doc["name"] == "Tenants Union"
    assert "<em>renters</em>" in doc["summary"]
    assert doc["url"] == tenants.uri
    assert doc["inbox"] == "http://a.test/g/tenants/inbox"
    assert doc["outbox"] == "http://a.test/g/tenants/outbox"
    assert doc["followers"] == "http://a.test/g/tenants/followers"
    assert doc["following"] == "http://a.test/g/tenants/following"
    assert doc["featured"] == "http://a.test/g/tenants/featured"
    assert doc["endpoints"] == {"sharedInbox": "http://a.test/inbox"}
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True
    assert doc["indexable"] is True
    assert doc["published"].endswith("Z")
    assert doc["publicKey"]["id"] == "http://a.test/g/tenants#main-key"
    assert doc["publicKey"]["owner"] == tenants.uri
    assert doc["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "https://w3id.org/security/v1" in doc["@context"]


@pytest.mark.parametrize("collection", ["outbox", "followers", "following", "featured"])
async def test_collections_are_ordered_collections_with_a_count(
    a: Instance, tenants: Actor, collection: str
) -> None:
    url = f"{tenants.uri}/{collection}"
    response = await a.get(path_of(url), headers={"Accept": AS2})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    doc = response.json()
    assert (doc["id"], doc["type"], doc["totalItems"]) == (url, "OrderedCollection", 0)
    if collection != "featured":
        # Mastodon treats a collection without `first` as hidden (interop-spec finding 21).
        assert doc["first"] == f"{url}?page=1"


async def test_the_outbox_pages_through_public_creates_newest_first(
    a: Instance, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activitypub, "PAGE_SIZE", 2)
    notes = [await committed(a.ctx, service.post_note, "tenants", f"Post number {n}") for n in range(3)]
    outbox = tenants.outbox or ""

    collection = (await a.get("/g/tenants/outbox", headers={"Accept": AS2})).json()
    first = (await a.get(path_of(collection["first"]), headers={"Accept": AS2})).json()
    second = (await a.get(path_of(first["next"]), headers={"Accept": AS2})).json()

    assert collection["totalItems"] == 3
    assert (first["type"], first["partOf"], first["next"]) == ("OrderedCollectionPage", outbox, f"{outbox}?page=2")
    assert [item["type"] for item in first["orderedItems"]] == ["Create", "Create"]
    assert [item["object"]["id"] for item in first["orderedItems"]] == [notes[2].uri, notes[1].uri]
    assert [item["object"]["id"] for item in second["orderedItems"]] == [notes[0].uri]
    assert second["partOf"] == outbox
    assert "next" not in second


async def test_the_followers_collection_pages_through_follower_ids(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activitypub, "PAGE_SIZE", 2)
    await followed_by(net, a, peer, tenants.uri, *peer.accounts.values())

    collection = (await a.get("/g/tenants/followers", headers={"Accept": AS2})).json()
    first = (await a.get("/g/tenants/followers?page=1", headers={"Accept": AS2})).json()
    second = (await a.get("/g/tenants/followers?page=2", headers={"Accept": AS2})).json()

    assert collection["totalItems"] == 3
    assert first["partOf"] == tenants.followers_uri
    assert first["next"] == f"{tenants.followers_uri}?page=2"
    assert "next" not in second
    follower_ids = sorted(account.id for account in peer.accounts.values())
    assert sorted(first["orderedItems"] + second["orderedItems"]) == follower_ids


async def test_every_id_we_publish_dereferences_to_itself_without_redirect(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    await followed_by(net, a, peer, tenants.uri, alice)  # we answer with an Accept
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, alice.handle))  # we send a Follow
    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike on Thursday")
    await net.settle()
    [accept] = peer.received("Accept")
    [our_follow] = peer.received("Follow")
    [create] = peer.received("Create")

    for uri in (note.uri, create["id"], accept["id"], our_follow["id"]):
        response = await a.get(path_of(uri), headers={"Accept": AS2})
        assert response.status_code == 200, uri
        assert response.headers["content-type"] == "application/activity+json", uri
        assert response.json()["id"] == uri
    assert create["id"] == f"{note.uri}/activity"


async def test_a_deleted_coalition_is_gone_for_servers_and_webfinger(a: Instance, tenants: Actor) -> None:
    await committed(a.ctx, service.delete_coalition, "tenants")

    assert (await a.get("/g/tenants", headers={"Accept": AS2})).status_code == 410
    webfinger = await a.get("/.well-known/webfinger", params={"resource": "acct:tenants@a.test"})
    assert webfinger.status_code == 410


async def test_a_deleted_note_is_gone_and_serves_a_tombstone(a: Instance, tenants: Actor) -> None:
    note = await committed(a.ctx, service.post_note, "tenants", "Cancelled")
    await committed(a.ctx, service.delete_object, note.uri)

    response = await a.get(path_of(note.uri), headers={"Accept": AS2})
    assert response.status_code == 410
    assert response.json()["type"] == "Tombstone"
    assert response.json()["id"] == note.uri
    assert (await a.get(path_of(note.uri), headers={"Accept": BROWSER})).status_code == 410
    assert (await a.get(path_of(note.uri) + "/activity", headers={"Accept": AS2})).status_code == 410


async def test_an_unknown_coalition_is_404(a: Instance) -> None:
    assert (await a.get("/g/nobody", headers={"Accept": AS2})).status_code == 404
