"""Hostile JSON from a peer: nesting, lone surrogates, NaN, object-valued types and oversized names.

Each is a classified 4xx at the inbox (before authentication where it can be) or a classified failure of
a fetch, never a 500, a traceback in the log or an inbox item retried five times.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fedihub.storage.models import Actor, InboxItem, StoredObject
from tests.integration.helpers import count_rows, find_object, follow_peer
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.all_backends  # PostgreSQL refuses what SQLite stores (surrogates, NaN, long values)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [100_000, 900, 65])
async def test_a_signed_activity_nested_deep_is_a_400_with_no_traceback(
    a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    alice = peer.accounts["alice"]
    create = peer.build_create(alice)
    body = json.dumps(create).replace('"tag": []', f'"tag": {nested(depth)}', 1).encode()
    assert nested(depth).encode() in body

    response = await peer.send(a, body, signer=alice)

    assert response.status_code == 400
    assert "nested too deeply" in response.text
    assert await count_rows(a, InboxItem) == 0
    assert tracebacks(caplog) == []
    assert peer.fetches_of(alice.id) == 0  # refused before authentication: no key was fetched


async def test_an_unsigned_body_nested_a_hundred_thousand_deep_is_a_400(
    a: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    response = await a.post("/inbox", content=b'{"a":' + nested(100_000).encode() + b"}",
                            headers={"Content-Type": "application/activity+json"})

    assert response.status_code == 400
    assert tracebacks(caplog) == []


async def test_an_actor_document_nested_deep_is_refused_as_a_bad_key_not_a_crash(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    alice = peer.accounts["alice"]
    document = peer.actor_document(alice)
    body = json.dumps(document).replace('"devices"', f'"deep": {nested(900)}, "devices"', 1).encode()

    def hostile(request: httpx.Request) -> Any:
        if request.method == "GET" and str(request.url) == alice.id:
            return httpx.Response(200, content=body, headers={"Content-Type": "application/activity+json"})
        return peer.handle(request)

    net.add_handler(peer.host, hostile)

    response = await peer.send(a, peer.build_follow(alice, tenants.uri))

    assert response.status_code == 401
    assert await count_rows(a, InboxItem) == 0
    assert tracebacks(caplog) == []


async def test_lone_surrogates_are_stored_as_replacement_characters_once_and_not_retried(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, object_type="Event", content="<p>Meet \ud83d at noon</p>")
    create["object"]["name"] = "Rally \udc00 at city hall"
    create["object"]["location"] = {"type": "Place", "name": "City\ud800Hall"}
    body = json.dumps(create).encode()  # ensure_ascii: the surrogates travel as \ud83d escapes
    assert b"\\ud83d" in body

    assert (await peer.send(a, body)).status_code == 202
    await net.settle()

    stored = await find_object(a, create["object"]["id"])
    assert stored is not None
    assert (stored.name, stored.location_name) == ("Rally \ufffd at city hall", "City\ufffdHall")
    assert "Meet \ufffd at noon" in (stored.content or "")
    async with a.ctx.sessions() as session:
        item = await session.scalar(select(InboxItem))
    assert item is not None and (item.state, item.attempts) == ("done", 1)
    assert tracebacks(caplog) == []
    calendar = await a.get("/calls.ics")  # and it can be written out again, as UTF-8
    assert calendar.status_code == 200 and "Rally \ufffd at city hall" in calendar.text


async def test_nan_and_infinity_are_a_400(a: Instance, peer: FakePeer, tenants: Actor) -> None:
    alice = peer.accounts["alice"]
    body = json.dumps(peer.build_follow(alice, tenants.uri))[:-1] + ', "x": NaN, "y": -Infinity}'

    response = await peer.send(a, body.encode(), signer=alice)

    assert response.status_code == 400
    assert await count_rows(a, InboxItem) == 0


@pytest.mark.parametrize("where", ["activity", "object"])
async def test_an_object_valued_type_is_refused_or_ignored_never_retried(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice)
    target = create if where == "activity" else create["object"]
    target["type"] = {"id": "https://www.w3.org/ns/activitystreams#Create", "type": "Note"}

    response = await peer.send(a, create)
    await net.settle()

    if where == "activity":
        assert response.status_code == 400
        assert await count_rows(a, InboxItem, InboxItem.activity_uri == create["id"]) == 0
    else:
        assert response.status_code == 202
        async with a.ctx.sessions() as session:
            item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == create["id"]))
        assert item is not None and item.state in ("done", "failed") and item.attempts == 1
        assert await count_rows(a, StoredObject, StoredObject.uri == create["object"]["id"]) == 0
    assert tracebacks(caplog) == []


async def test_a_type_or_username_too_long_for_its_column_is_a_400_not_a_database_error(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    follow["type"] = "Follow" + "x" * 70_000

    assert (await peer.send(a, follow)).status_code == 400

    bob = peer.accounts["bob"]
    document = peer.actor_document(bob)
    document["preferredUsername"] = "b" * 70_000

    def hostile(request: httpx.Request) -> Any:
        if request.method == "GET" and str(request.url) == bob.id:
            return httpx.Response(200, json=document, headers={"Content-Type": "application/activity+json"})
        return peer.handle(request)

    net.add_handler(peer.host, hostile)
    response = await peer.send(a, peer.build_follow(bob, tenants.uri))
    await net.settle()

    assert response.status_code == 202
    async with a.ctx.sessions() as session:
        stored = await session.scalar(select(Actor).where(Actor.uri == bob.id))
    assert stored is not None and stored.username is None
    assert tracebacks(caplog) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_payload_that_trips_a_bug_fails_once_and_is_not_retried_five_times(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The backstop: should a payload still reach code that chokes on it, the same payload would choke
    again, so the item fails at once (its traceback logged once) instead of being retried."""
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice)
    processor = a.runtime.worker.processor
    original = processor.process

    async def choke(ctx, item, *, owner=None):  # type: ignore[no-untyped-def]
        if item.activity_uri == create["id"]:
            "\ud800".encode()  # what a lone surrogate did before the decoder replaced them
        return await original(ctx, item, owner=owner)

    monkeypatch.setattr(processor, "process", choke)
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    net.clock.advance(hours=1)
    await net.settle()

    async with a.ctx.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == create["id"]))
    assert item is not None and (item.state, item.attempts) == ("failed", 1)
    assert item.last_error is not None and item.last_error.startswith("UnicodeEncodeError")
    assert len(tracebacks(caplog)) == 1


@pytest.mark.parametrize("kind", ["Announce", "Create"])
async def test_an_activity_whose_object_is_the_public_collection_fetches_nothing_and_is_not_retried(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, kind: str
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    activity = peer.build_announce(alice, "https://www.w3.org/ns/activitystreams#Public", alice.id)
    activity["type"] = kind

    assert (await peer.send(a, activity)).status_code == 202
    await net.settle()

    async with a.ctx.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == activity["id"]))
    assert item is not None and item.state in ("done", "failed") and item.attempts == 1
    assert "could not be fetched" not in (item.last_error or "")
