"""Inbound JSON-LD as a peer meets it: a context with terms we do not know is accepted and stored as
the document we checked, one that aliases actor is a 400 before any key is fetched, and a context URL
is never requested (landscape §D row 9)."""

from __future__ import annotations

from typing import Any

import httpx

from fedihub.protocol.jsonld import canonical_context
from fedihub.protocol.reader import read_activity
from fedihub.storage.models import Actor, InboxItem
from tests.integration.helpers import count_rows, inbox_items
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

AS = "https://www.w3.org/ns/activitystreams"


def with_context(doc: dict[str, Any], *extra: Any, **fields: Any) -> dict[str, Any]:
    contexts = doc["@context"] if isinstance(doc["@context"], list) else [doc["@context"]]
    return {**doc, "@context": [*contexts, *extra], **fields}


async def test_an_activity_with_terms_we_do_not_know_is_stored_as_the_document_we_checked(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    create = with_context(peer.build_create(alice), {"vibe": "https://vibes.example/ns#vibe"}, vibe="calm")

    response = await peer.send(a, create)

    assert response.status_code == 202
    [item] = await inbox_items(a)
    # The signature was checked against this document's actor and id; the worker reads the same one.
    assert item.payload["@context"] == canonical_context()
    assert item.payload["https://vibes.example/ns#vibe"] == "calm" and "vibe" not in item.payload
    stored = read_activity(item.payload)
    assert (stored.id, stored.actor, stored.object_id) == (create["id"], alice.id, create["object"]["id"])
    await net.settle()
    [item] = await inbox_items(a)
    assert item.state == "done"


async def test_an_activity_whose_context_aliases_actor_is_refused_before_any_key_is_fetched(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    # Signed by alice, whose actor it names; a JSON-LD reader would also see bob as its actor.
    create = with_context(peer.build_create(alice), {"creator": "as:actor"}, creator=bob.id)

    response = await peer.send(a, create)

    assert response.status_code == 400
    assert "fedihub refuses contexts that change what ActivityStreams terms" in response.text
    assert await count_rows(a, InboxItem) == 0
    assert peer.requests == []


async def test_a_context_url_on_a_private_address_is_never_requested(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    asked: list[httpx.Request] = []
    net.add_handler("127.0.0.1", lambda request: asked.append(request) or httpx.Response(200, json={"@context": {}}))
    alice = peer.accounts["alice"]
    plain = with_context(peer.build_create(alice), "http://127.0.0.1/ctx")
    processed = with_context(peer.build_create(alice), "http://127.0.0.1/ctx", {"vibe": "https://vibes.example/ns#vibe"})

    assert (await peer.send(a, plain)).status_code == 202
    assert (await peer.send(a, processed)).status_code == 202
    await net.settle()

    assert asked == []
    assert await count_rows(a, InboxItem) == 2
