"""JSON-LD processing works offline with the bundled contexts and refuses everything else."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from fedihub.errors import MalformedActivity
from fedihub.protocol import jsonld
from fedihub.protocol.reader import read_activity
from tests.support.fixtures import load_fixture

AS = "https://www.w3.org/ns/activitystreams#"


load = load_fixture


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket or resolve a name fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_expand_mastodon_create_note_offline() -> None:
    [activity] = jsonld.expand(load("mastodon/create_note.json"))
    assert activity["@type"] == [AS + "Create"]
    assert {"@id": AS + "Public"} in activity[AS + "cc"]
    [note] = activity[AS + "object"]
    assert note["@type"] == [AS + "Note"]
    # The inline term map of the capture is honoured alongside the bundled AS context.
    assert note["http://ostatus.org#atomUri"] == [{"@value": note["@id"]}]


def test_expand_actor_uses_the_security_context() -> None:
    [actor] = jsonld.expand(load("mastodon/actor_person.json"))
    [key] = actor["https://w3id.org/security#publicKey"]
    assert key["https://w3id.org/security#publicKeyPem"][0]["@value"].startswith("-----BEGIN")
    assert actor["http://joinmastodon.org/ns#featured"] == [
        {"@id": "https://masto.qa.urbanwildlife.biz/users/mastodon/collections/featured"}
    ]


def test_expand_mitra_integrity_proof_with_data_integrity_context() -> None:
    [activity] = jsonld.expand(load("mitra/create_note_integrity_proof.json"))
    assert "https://w3id.org/security#proof" in activity


def test_compact_gives_as_public_which_the_reader_still_understands() -> None:
    expanded = jsonld.expand(load("mastodon/create_note.json"))
    compacted = jsonld.compact(expanded, "https://www.w3.org/ns/activitystreams")
    assert compacted["type"] == "Create"
    assert "as:Public" in compacted["cc"]  # pitfall P14: why the reader accepts aliases
    assert read_activity(compacted).visibility(None) == "unlisted"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams#",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "http://w3id.org/security/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/data-integrity/v2",
    ],
)
def test_loader_serves_bundled_contexts_by_any_spelling(url: str) -> None:
    remote = jsonld.offline_document_loader(url, {})
    assert remote["documentUrl"] == url and "@context" in remote["document"]
    remote["document"]["@context"] = None  # callers get their own copy
    assert jsonld.offline_document_loader(url)["document"]["@context"] is not None


def test_unknown_remote_context_is_refused_without_network() -> None:
    doc = {"@context": ["https://www.w3.org/ns/activitystreams", "https://evil.example/ctx.jsonld"],
           "id": "https://evil.example/1", "type": "Note"}
    with pytest.raises(MalformedActivity) as caught:
        jsonld.expand(doc)
    assert "unknown JSON-LD context https://evil.example/ctx.jsonld" in str(caught.value)
    assert "never fetches contexts at runtime" in str(caught.value)
    with pytest.raises(MalformedActivity, match="unknown JSON-LD context"):
        jsonld.compact({"id": "x"}, "https://evil.example/other")


def test_real_unbundled_context_fails_clearly() -> None:
    # Pleroma's litepub context is a remote document we do not ship (pitfall P14); the plain
    # JSON reader still reads the activity.
    doc = load("pleroma/create_note.json")
    with pytest.raises(MalformedActivity, match="litepub-0.1.jsonld"):
        jsonld.expand(doc)
    assert read_activity(doc).type == "Create"


def test_invalid_json_ld_is_malformed_activity() -> None:
    with pytest.raises(MalformedActivity, match="invalid JSON-LD"):
        jsonld.expand({"@context": {"@version": 2.0}, "id": "x"})
