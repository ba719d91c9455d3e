"""The document fedihub verifies and processes: every peer's capture stays plain JSON (no pyld call),
a context with terms we do not know is expanded and compacted offline, and a context that changes
what core ActivityStreams terms mean is refused with a 400 (landscape §D row 9)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld

from fedihub.coalitions.actor_profile import PROFILE_CONTEXT
from fedihub.errors import MalformedActivity
from fedihub.federation.inbox import parse_activity_body
from fedihub.protocol import jsonld
from fedihub.protocol.builders import build_create, build_note
from fedihub.protocol.profile_reader import HUB_NAMESPACE, read_actor_profile
from fedihub.protocol.reader import read_activity, read_actor, read_object
from tests.unit.test_builders import group_actor
from tests.unit.test_event_builder import rally

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AS = "https://www.w3.org/ns/activitystreams"
ALICE = "https://masto.example/users/alice"
PEER_DOCUMENTS = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.json"))


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def note_activity(context: Any, **fields: Any) -> dict[str, Any]:
    """A Create(Note) by alice with ``context``; ``fields`` are added to (or replace) the activity's."""
    return {
        "@context": context, "id": f"{ALICE}/statuses/1/activity", "type": "Create", "actor": ALICE,
        "to": [f"{AS}#Public"], "cc": [f"{ALICE}/followers"],
        "object": {"id": f"{ALICE}/statuses/1", "type": "Note", "attributedTo": ALICE, "content": "<p>Hi</p>",
                   "to": [f"{AS}#Public"]},
        **fields,
    }


def parse(doc: dict[str, Any]) -> Any:
    return parse_activity_body(json.dumps(doc).encode(), "application/activity+json")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket or resolve a name fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


@pytest.fixture
def pyld_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts calls into pyld."""
    calls: list[str] = []
    for name in ("expand", "compact"):
        original = getattr(pyld, name)
        monkeypatch.setattr(pyld, name, lambda *a, _o=original, _n=name, **k: calls.append(_n) or _o(*a, **k))
    return calls


# --- The fast path ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PEER_DOCUMENTS)
def test_every_peers_documents_are_read_as_plain_json_without_pyld(name: str, pyld_calls: list[str]) -> None:
    doc = fixture(name)

    assert jsonld.canonical_document(doc) is doc
    assert pyld_calls == []


def test_the_documents_we_send_are_read_as_plain_json(pyld_calls: list[str]) -> None:
    note = build_note(object_id=f"{ALICE}/n/1", attributed_to=ALICE, content_html="<p>Hi</p>", to=[f"{AS}#Public"],
                      cc=[], published=datetime(2026, 3, 1, tzinfo=UTC), tags=[{"type": "Hashtag", "name": "#climate"}])
    event = rally()
    # A hub's actor and roster carry our namespace and the profile terms (web/activitypub.py).
    hub = group_actor(extra={"@context": [PROFILE_CONTEXT, {"fedihub": HUB_NAMESPACE}], "fedihub:hubScope": "state"})
    roster = {"@context": [AS, {"fedihub": HUB_NAMESPACE}, PROFILE_CONTEXT], "id": f"{ALICE}/members",
              "type": "OrderedCollection", "orderedItems": [{"id": ALICE, "type": "Group", "fedihub:hubScope": "city",
                                                             "address": {"addressLocality": "Springfield"}}]}
    ours = [group_actor(), build_create(activity_id=f"{ALICE}/a/1", actor=ALICE, obj=note), event,
            build_create(activity_id=f"{ALICE}/a/2", actor=ALICE, obj=event), hub, roster]

    assert all(jsonld.canonical_document(doc) is doc for doc in ours)
    assert pyld_calls == []


# --- The JSON-LD path -------------------------------------------------------------------------------


def _views(doc: dict[str, Any]) -> list[Any]:
    """What the plain readers take from a document, without the raw mappings."""
    views = []
    for reader in (read_activity, read_object, read_actor):
        try:
            view = reader(doc)
        except MalformedActivity as exc:
            views.append(str(exc))
            continue
        fields = {k: v for k, v in vars(view).items() if k not in ("raw", "object")}
        views.append(fields)
        if reader is read_activity and isinstance(doc.get("object"), dict):
            views.append({k: v for k, v in vars(read_object(doc["object"])).items() if k != "raw"})
    return views


@pytest.mark.parametrize("name", PEER_DOCUMENTS)
def test_every_peers_documents_read_the_same_through_json_ld(name: str) -> None:
    # Forced through expansion and compaction, each capture says what its plain reading says: the
    # JSON-LD path loses nothing fedihub reads.
    doc = fixture(name)

    assert _views(jsonld.process_json_ld(doc)) == _views(doc)


def test_a_term_we_do_not_know_sends_the_document_through_json_ld(pyld_calls: list[str]) -> None:
    doc = note_activity([AS, {"vibe": "https://vibes.example/ns#vibe"}], vibe="calm")

    processed = jsonld.canonical_document(doc)

    assert pyld_calls == ["expand", "compact"]
    assert processed["https://vibes.example/ns#vibe"] == "calm"  # kept, under the name its context gives it
    assert _views(processed) == _views(doc)


def test_our_own_terms_read_the_same_through_json_ld_in_both_their_spellings() -> None:
    # Hub actors write fedihub:hubScope; pledge summaries write hubScope as a term of their context.
    hub = group_actor(extra={"@context": [{"fedihub": HUB_NAMESPACE, "vibe": "https://vibes.example/ns#vibe"}],
                             "fedihub:hubScope": "state", "vibe": "calm"})

    processed = jsonld.canonical_document(hub)

    assert processed is not hub
    assert read_actor_profile(processed).hub_scope == read_actor_profile(hub).hub_scope == "state"
    assert processed["hubScope"] == "state"


def test_text_that_happens_to_read_public_is_left_alone() -> None:
    doc = note_activity([AS, {"vibe": "https://vibes.example/ns#vibe"}], vibe="calm")
    doc["object"]["name"] = "Public"

    assert jsonld.canonical_document(doc)["object"]["name"] == "Public"


def test_a_known_term_under_another_name_is_read_by_its_meaning() -> None:
    # Mobilizon's timezone called "tz": plain JSON would miss it; the processed document has it.
    event = {"id": "https://mobilizon.example/events/1", "type": "Event", "name": "Rally", "attributedTo": ALICE,
             "startTime": "2026-05-01T10:00:00+02:00", "tz": "Europe/Paris"}
    doc = note_activity([AS, {"mz": "https://joinmobilizon.org/ns#", "tz": "mz:timezone"}], object=event)

    activity = parse(doc)

    assert read_object(activity.object).timezone == "Europe/Paris"
    assert activity.raw["object"]["timezone"] == "Europe/Paris" and "tz" not in activity.raw["object"]


def test_what_is_verified_and_what_is_processed_are_one_document() -> None:
    doc = note_activity([AS, {"vibe": "https://vibes.example/ns#vibe"}], vibe="calm")

    activity = parse(doc)

    # receive_activity checks activity.actor and activity.id against the signature, then stores
    # activity.raw for the worker: the canonical document, read again identically.
    assert read_activity(activity.raw) == activity
    assert activity.actor == ALICE and activity.raw["@context"] == jsonld.canonical_context()


# --- Refused -----------------------------------------------------------------------------------------


ALIASING = {
    # landscape §D row 9: a custom @context that aliases actor
    "another term onto actor": [AS, {"creator": "as:actor"}],
    "another term onto actor, by full IRI": [AS, {"creator": {"@id": f"{AS}#actor", "@type": "@id"}}],
    "another term onto actor, through a prefix": [AS, {"a": f"{AS}#", "creator": "a:actor"}],
    "actor redefined as object": [AS, {"actor": "as:object"}],
    "actor moved to another vocabulary": [AS, {"actor": "https://evil.example/ns#actor"}],
    "to redefined": [AS, {"to": "https://evil.example/ns#to"}],
    "a keyword alias for id": [AS, {"ident": "@id"}],
    "type renamed": [AS, {"type": "https://evil.example/ns#type"}],
    "a reverse property": [AS, {"owns": {"@reverse": "as:attributedTo"}}],
}


@pytest.mark.parametrize("context", ALIASING.values(), ids=list(ALIASING))
def test_a_context_that_changes_a_core_term_is_refused_with_a_400(context: Any, pyld_calls: list[str]) -> None:
    doc = note_activity(context, creator="https://evil.example/users/mallory", ident="https://evil.example/1")

    with pytest.raises(MalformedActivity) as refused:
        parse(doc)

    assert refused.value.status_code == 400
    assert "fedihub refuses contexts that change what ActivityStreams terms" in refused.value.public_message
    assert pyld_calls == []  # decided from the context alone


SUBTLER = {
    # These need pyld to see: the processed document would name another actor, object or author.
    "actor left undefined": note_activity([AS, {"actor": None}]),
    "a nested context inside the object": note_activity(AS, object={
        "@context": {"attributedTo": "https://evil.example/ns#author"}, "id": f"{ALICE}/statuses/1", "type": "Note",
        "attributedTo": "https://victim.example/users/bob", "content": "hi"}),
    "a second actor spelled as an IRI": note_activity(AS, **{f"{AS}#actor": {"id": "https://evil.example/users/m"}}),
    "a second actor spelled as a compact IRI": note_activity(AS, **{"as:actor": {"id": "https://evil.example/users/m"}}),
    "a second actor as a string under its IRI": note_activity(AS, **{f"{AS}#actor": "https://evil.example/users/m"}),
    "the id given as @id": {**note_activity(AS), "@id": "https://evil.example/1"},
}


@pytest.mark.parametrize("doc", SUBTLER.values(), ids=list(SUBTLER))
def test_a_document_whose_json_ld_reading_differs_in_a_core_term_is_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(MalformedActivity) as refused:
        parse(doc)

    assert refused.value.status_code == 400


@pytest.mark.parametrize("keyword", ["@graph", "@included", "@reverse"])
@pytest.mark.parametrize("where", ["top", "object"])
def test_graph_included_and_reverse_are_refused_wherever_they_are(keyword: str, where: str) -> None:
    wrapped = {"id": "https://evil.example/1", "type": "Note", "attributedTo": ALICE}
    doc = {**note_activity(AS), keyword: [wrapped]} if where == "top" else note_activity(
        AS, object={**note_activity(AS)["object"], keyword: [wrapped]})

    with pytest.raises(MalformedActivity, match=f"uses {keyword}"):
        parse(doc)


@pytest.mark.parametrize("extra", [[], [{"vibe": "https://vibes.example/ns#vibe"}]], ids=["plain", "json-ld"])
def test_a_context_on_a_private_address_is_never_requested(extra: list[Any]) -> None:
    # The autouse fixture turns any socket into a failure; the context simply defines nothing.
    doc = note_activity([AS, "http://127.0.0.1/ctx", *extra], vibe="calm")

    assert parse(doc).actor == ALICE


def test_a_document_over_the_json_ld_caps_is_refused() -> None:
    unknown = [AS, {"vibe": "https://vibes.example/ns#vibe"}]
    too_deep: dict[str, Any] = {"vibe": "bottom"}
    for _ in range(jsonld.MAX_LD_DEPTH + 1):
        too_deep = {"vibe": too_deep}
    over_the_caps = {
        "bytes": note_activity(unknown, vibe="x" * jsonld.MAX_LD_DOCUMENT_BYTES),
        "keys and list items": note_activity(unknown, vibe=list(range(jsonld.MAX_LD_MEMBERS))),
        "levels deep": note_activity(unknown, vibe=too_deep),
        "bytes of contexts": note_activity([AS, {f"t{n}": f"https://vibes.example/ns#{'t' * 50}" for n in range(400)}]),
    }

    for reason, doc in over_the_caps.items():
        with pytest.raises(MalformedActivity, match=reason):
            parse(doc)
    # The same documents without the unknown term are plain JSON, bounded by the body limit alone.
    assert parse(note_activity(AS, vibe=list(range(jsonld.MAX_LD_MEMBERS)))).actor == ALICE


def test_json_ld_that_runs_past_the_time_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonld, "MAX_LD_SECONDS", 0.0)

    with pytest.raises(MalformedActivity, match="took longer than"):
        parse(note_activity([AS, {"vibe": "https://vibes.example/ns#vibe"}]))


def test_a_body_nested_a_hundred_thousand_deep_is_a_400_not_a_crash() -> None:
    body = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    with pytest.raises(MalformedActivity, match="nested too deeply"):
        parse_activity_body(body, "application/activity+json")


def test_a_context_restating_core_terms_as_the_standard_does_stays_plain(pyld_calls: list[str]) -> None:
    restated = [AS, {"inbox": {"@id": "ldp:inbox", "@type": "@id"}, "id": "@id", "type": "@type", "actor": "as:actor"}]

    assert parse(note_activity(restated)).actor == ALICE
    assert pyld_calls == []


@pytest.mark.parametrize("context", [
    [AS, {"a": "b:x", "b": "a:y"}],
    [AS, {**{f"p{n}": f"p{n + 1}:x" for n in range(500)}, "p500": "https://vibes.example/ns#"}],
    [AS, {"@import": "und"}],  # pyld fails with a ValueError here, not its own error type
], ids=["prefixes in a loop", "a chain of 500 prefixes", "a relative import"])
def test_odd_contexts_are_a_400_not_a_crash(context: Any) -> None:
    with pytest.raises(MalformedActivity) as refused:
        parse(note_activity(context))

    assert refused.value.status_code == 400
