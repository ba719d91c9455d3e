"""Fetching ActivityPub documents: what we accept and refuse, as Mastodon does (spec §1.5)."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from fedihub.errors import (
    ForbiddenAddress,
    InvalidInput,
    RemoteGone,
    RemoteInvalid,
    RemoteNotFound,
    RemoteUnavailable,
)
from fedihub.protocol.fetch import fetch_activitypub_document, fetch_actor_document
from fedihub.protocol.http import build_http_client
from tests.support.fixtures import fixtures_dir

NOTE_URL = "https://peer.example/notes/1"
ACTOR_URL = "https://peer.example/users/alice"
AS_LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def note(url: str = NOTE_URL) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": url,
        "type": "Note",
        "content": "Rally at noon",
    }


def actor(url: str = ACTOR_URL, **overrides: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": url,
        "type": "Person",
        "preferredUsername": "alice",
        "inbox": f"{url}/inbox",
    } | overrides


def serving(
    body: Any,
    *,
    status: int = 200,
    content_type: str = "application/activity+json",
    headers: dict[str, str] | None = None,
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose every request is answered with ``body``; also returns the requests seen."""
    seen: list[httpx.Request] = []
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            status, content=content, headers={"Content-Type": content_type, **(headers or {})}
        )

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def answering(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_fetches_a_document_served_at_its_own_id() -> None:
    client, seen = serving(note())
    assert await fetch_activitypub_document(client, NOTE_URL) == note()
    accept = seen[0].headers["accept"]
    assert "application/activity+json" in accept
    assert AS_LD_JSON in accept


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        AS_LD_JSON,
        "application/ld+json;profile=https://www.w3.org/ns/activitystreams",
        'application/ld+json; profile="https://example.org/p https://www.w3.org/ns/activitystreams"',
    ],
)
async def test_accepts_the_activitypub_media_types(content_type: str) -> None:
    client, _ = serving(note(), content_type=content_type)
    assert (await fetch_activitypub_document(client, NOTE_URL))["id"] == NOTE_URL


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/ld+json", "text/html; charset=utf-8", ""],
)
async def test_refuses_other_media_types_like_mastodon(content_type: str) -> None:
    # Mastodon >= 4.2.5 discards these (GHSA-3fjr-858r-92rw, pitfall P11).
    client, _ = serving(note(), content_type=content_type)
    with pytest.raises(RemoteInvalid, match="content type"):
        await fetch_activitypub_document(client, NOTE_URL)


async def test_refuses_a_document_whose_id_is_not_the_url_fetched() -> None:
    client, _ = serving(note("https://peer.example/notes/2"))
    with pytest.raises(RemoteInvalid, match="id"):
        await fetch_activitypub_document(client, NOTE_URL)


async def test_refuses_a_document_without_id() -> None:
    document = note()
    del document["id"]
    client, _ = serving(document)
    with pytest.raises(RemoteInvalid):
        await fetch_activitypub_document(client, NOTE_URL)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, RemoteNotFound),
        (410, RemoteGone),
        (401, RemoteInvalid),
        (403, RemoteInvalid),
        (400, RemoteInvalid),
        (202, RemoteInvalid),  # only exactly 200 carries a usable document
        (408, RemoteUnavailable),
        (429, RemoteUnavailable),
        (500, RemoteUnavailable),
        (502, RemoteUnavailable),
        (503, RemoteUnavailable),
    ],
)
async def test_maps_status_codes_to_errors(status: int, error: type[Exception]) -> None:
    client, _ = serving(note(), status=status)
    with pytest.raises(error):
        await fetch_activitypub_document(client, NOTE_URL)


async def test_forbidden_answers_mention_authorized_fetch() -> None:
    client, _ = serving({"error": "Request not signed"}, status=401)
    with pytest.raises(RemoteInvalid, match="authorized fetch"):
        await fetch_activitypub_document(client, NOTE_URL)


async def test_refuses_redirects_even_to_a_valid_document() -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": NOTE_URL})
        return httpx.Response(200, json=note(), headers={"Content-Type": "application/activity+json"})

    with pytest.raises(RemoteInvalid, match="redirected"):
        await fetch_activitypub_document(answering(handler), "https://peer.example/old")
    assert requested == ["https://peer.example/old"]


async def test_refuses_a_body_declared_larger_than_the_limit() -> None:
    client, _ = serving(note() | {"content": "x" * 2000})
    with pytest.raises(RemoteInvalid, match="bytes"):
        await fetch_activitypub_document(client, NOTE_URL, max_bytes=1000)


async def test_stops_reading_an_undeclared_body_once_past_the_limit() -> None:
    chunks_sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield b'{"id": "' + NOTE_URL.encode() + b'", "content": "'
        while True:
            chunks_sent += 1
            yield b"x" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless(), headers={"Content-Type": "application/activity+json"})

    with pytest.raises(RemoteInvalid, match="larger than"):
        await fetch_activitypub_document(answering(handler), NOTE_URL, max_bytes=10_000)
    assert chunks_sent <= 11


async def test_inflates_gzip_bodies() -> None:
    client, _ = serving(gzip.compress(json.dumps(note()).encode()), headers={"Content-Encoding": "gzip"})
    assert await fetch_activitypub_document(client, NOTE_URL) == note()


async def test_limit_counts_inflated_bytes_so_gzip_bombs_are_refused() -> None:
    bomb = gzip.compress(b'{"id": "' + NOTE_URL.encode() + b'", "pad": "' + b" " * 5_000_000 + b'"}')
    assert len(bomb) < 10_000
    client, _ = serving(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(RemoteInvalid, match="larger than"):
        await fetch_activitypub_document(client, NOTE_URL)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"just a string"', b"not json", b"", b"\xff\xfe"])
async def test_refuses_bodies_that_are_not_a_json_object(body: bytes) -> None:
    client, _ = serving(body)
    with pytest.raises(RemoteInvalid):
        await fetch_activitypub_document(client, NOTE_URL)


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
async def test_network_failures_are_unavailable(failure: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(RemoteUnavailable):
        await fetch_activitypub_document(answering(handler), NOTE_URL)


@pytest.mark.parametrize("url", ["ftp://peer.example/notes/1", "acct:alice@peer.example", "/notes/1", ""])
async def test_only_http_urls_can_be_fetched(url: str) -> None:
    client, seen = serving(note())
    with pytest.raises(InvalidInput):
        await fetch_activitypub_document(client, url)
    assert seen == []


@pytest.mark.parametrize("url", ["http://x@blocked.example/users/a", "https://good.example\\@blocked.example/a"])
async def test_a_url_with_user_info_is_never_fetched(url: str) -> None:
    # A document served there would carry that id too: such ids were a way past domain blocks.
    client, seen = serving(note(url))
    with pytest.raises(InvalidInput, match="user name before its host"):
        await fetch_activitypub_document(client, url)
    assert seen == []


async def test_auth_signs_the_request() -> None:
    class StampAuth(httpx.Auth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            request.headers["Signature"] = "stamped"
            yield request

    client, seen = serving(note())
    await fetch_activitypub_document(client, NOTE_URL, auth=StampAuth())
    assert seen[0].headers["signature"] == "stamped"


# --- actors ---------------------------------------------------------------------------------


async def test_fetches_an_actor() -> None:
    client, _ = serving(actor())
    assert (await fetch_actor_document(client, ACTOR_URL))["inbox"] == f"{ACTOR_URL}/inbox"


@pytest.mark.parametrize(
    "fixture",
    ["mastodon/actor_person.json", "gancio/actor_application.json", "lemmy/group.json", "mobilizon/group.json"],
)
async def test_fetches_real_actors_from_other_servers(fixture: str) -> None:
    document = json.loads((fixtures_dir() / fixture).read_text())
    client, _ = serving(document)
    assert await fetch_actor_document(client, document["id"]) == document


@pytest.mark.parametrize("kind", ["Application", "Group", "Organization", "Service", ["Person"]])
async def test_every_actor_type_is_accepted(kind: Any) -> None:
    client, _ = serving(actor(type=kind))
    await fetch_actor_document(client, ACTOR_URL)


async def test_refuses_an_object_that_is_not_an_actor() -> None:
    client, _ = serving(actor(type="Note"))
    with pytest.raises(RemoteInvalid, match="not an actor"):
        await fetch_actor_document(client, ACTOR_URL)


async def test_refuses_an_actor_without_inbox() -> None:
    document = actor()
    del document["inbox"]
    client, _ = serving(document)
    with pytest.raises(RemoteInvalid, match="inbox"):
        await fetch_actor_document(client, ACTOR_URL)


async def test_refuses_an_actor_claiming_to_live_on_another_host() -> None:
    client, _ = serving(actor("https://elsewhere.example/users/alice"))
    with pytest.raises(RemoteInvalid):
        await fetch_actor_document(client, ACTOR_URL)


async def test_ssrf_refusals_surface_as_forbidden_address_not_unavailable() -> None:
    # A refused address is permanent; it must not be mistaken for a peer that is down.
    async with build_http_client(user_agent="fedihub/test", allow_private_addresses=False) as client:
        with pytest.raises(ForbiddenAddress):
            await fetch_activitypub_document(client, "http://127.0.0.1:1/notes/1")


async def test_a_fetched_document_with_terms_we_do_not_know_is_read_through_json_ld() -> None:
    doc = note() | {"@context": ["https://www.w3.org/ns/activitystreams", {"mood": "https://vibes.example/ns#mood"}],
                    "mood": "hopeful"}
    client, _ = serving(doc)

    fetched = await fetch_activitypub_document(client, NOTE_URL)

    assert fetched["id"] == NOTE_URL and fetched["content"] == "Rally at noon"
    assert fetched["https://vibes.example/ns#mood"] == "hopeful" and "mood" not in fetched


async def test_a_fetched_actor_whose_context_aliases_a_core_term_is_refused() -> None:
    doc = actor(**{"@context": ["https://www.w3.org/ns/activitystreams", {"mailbox": "ldp:inbox"}],
                   "mailbox": "https://evil.example/inbox"})
    client, _ = serving(doc)

    with pytest.raises(RemoteInvalid, match="maps 'mailbox' onto 'inbox'"):
        await fetch_actor_document(client, ACTOR_URL)
