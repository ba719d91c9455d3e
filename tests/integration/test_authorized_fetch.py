"""Authorized fetch (Mastodon's secure mode): AS2 GETs of coalitions and posts must be signed."""

from __future__ import annotations

import pytest

from fedihub.coalitions import service
from fedihub.federation.blocks import block_domain
from fedihub.storage.models import StoredObject
from tests.integration.helpers import path_of
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance


@pytest.fixture
async def secure(net: FederationNet) -> Instance:
    return await net.add_instance("a.test", authorized_fetch=True)


@pytest.fixture
async def note(secure: Instance) -> StoredObject:
    await committed(secure.ctx, service.create_coalition, "tenants", name="Tenants Union")
    return await committed(secure.ctx, service.post_note, "tenants", "Members only? No, just signed fetches.")


@pytest.mark.parametrize("what", ["coalition", "followers", "post", "post activity"])
async def test_unsigned_fetches_are_refused(secure: Instance, peer: FakePeer, note: StoredObject, what: str) -> None:
    path = {
        "coalition": "/g/tenants", "followers": "/g/tenants/followers",
        "post": path_of(note.uri), "post activity": path_of(note.uri) + "/activity",
    }[what]

    response = await peer.fetch(secure, path)

    assert response.status_code == 401


async def test_signed_fetches_get_the_documents_and_are_not_cached_publicly(
    secure: Instance, peer: FakePeer, note: StoredObject
) -> None:
    alice = peer.accounts["alice"]

    actor = await peer.fetch(secure, "/g/tenants", signer=alice)
    post = await peer.fetch(secure, path_of(note.uri), signer=alice)

    assert actor.status_code == 200 and actor.json()["id"] == "http://a.test/g/tenants"
    assert post.status_code == 200 and post.json()["id"] == note.uri
    # A shared cache must not hand a signed-only answer to the next, unsigned, client.
    assert "Signature" in actor.headers["vary"]
    assert "public" not in actor.headers["cache-control"]


async def test_a_signed_fetch_from_a_blocked_server_is_refused(
    secure: Instance, peer: FakePeer, note: StoredObject
) -> None:
    await committed(secure.ctx, block_domain, "masto.test")
    response = await peer.fetch(secure, "/g/tenants", signer=peer.accounts["alice"])
    assert response.status_code == 403


async def test_the_instance_actor_and_webfinger_stay_public(
    secure: Instance, peer: FakePeer, note: StoredObject
) -> None:
    # Peers need the instance actor's key to verify our own signed fetches (FEP-2677).
    instance_actor = await peer.fetch(secure, "/actor")
    webfinger = await secure.get("/.well-known/webfinger", params={"resource": "acct:tenants@a.test"})

    assert instance_actor.status_code == 200
    assert instance_actor.json()["type"] == "Application"
    assert instance_actor.json()["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert webfinger.status_code == 200


async def test_browsers_still_see_the_coalition_page(secure: Instance, note: StoredObject) -> None:
    response = await secure.get("/g/tenants", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
