"""JSON-LD with bundled context documents only, never the network, and the one decision of which
inbound documents need it: the document fedihub verifies and processes (canonical_document)."""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from types import ModuleType
from typing import Any

from fedihub.errors import MalformedActivity
from fedihub.protocol import known_contexts
from fedihub.protocol.known_contexts import canonical_context
from fedihub.protocol.vocab import PUBLIC, PUBLIC_ALIASES

# Why offline only: fetching a context per inbound activity is slow (ARCHITECTURE "JSON-LD":
# expand+compact alone is ~3 ms), lets any peer make us issue requests to URLs of its choosing,
# and breaks when a context host is down (pitfall P14: litepub remote contexts). The reader in
# reader.py handles the hot path as plain JSON; this module is for the rare cases that need it.

# Canonical URL → bundled file (provenance in contexts/README.md).
BUNDLED_CONTEXTS: dict[str, str] = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.json",
    "https://w3id.org/security/v1": "security-v1.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
}


def normalise_context_url(url: str) -> str:
    """Peers spell the same context several ways: http or https, with "#" or ".jsonld"."""
    normalised = url.strip()
    if normalised.startswith("http://"):
        normalised = "https://" + normalised[len("http://") :]
    while normalised.endswith("#"):
        normalised = normalised[:-1]
    if normalised.endswith(".jsonld"):
        normalised = normalised[: -len(".jsonld")]
    return normalised


@cache
def _context_text(filename: str) -> str:
    return (resources.files("fedihub.protocol") / "contexts" / filename).read_text("utf-8")


def offline_document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """pyld document loader serving only the bundled contexts; anything else is refused."""
    filename = BUNDLED_CONTEXTS.get(normalise_context_url(url)) if isinstance(url, str) else None
    if filename is None:
        raise MalformedActivity(
            f"unknown JSON-LD context {url}; fedihub never fetches contexts at runtime",
            public_message="the document uses a JSON-LD context this server does not know",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # A fresh parse each time so no caller can mutate the shared copy.
        "document": json.loads(_context_text(filename)),
    }


def _our_error(exc: BaseException) -> MalformedActivity | None:
    """Find our loader's MalformedActivity inside pyld's chain of wrapped errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MalformedActivity):
            return current
        seen.add(id(current))
        cause = getattr(current, "cause", None)  # pyld 2.x keeps it here, 3.x chains it
        current = cause if isinstance(cause, BaseException) else current.__cause__
    return None


def _jsonld() -> ModuleType:
    # pyld (with lxml and friends) costs about 25 MB resident: loaded by the first document that needs
    # JSON-LD processing, not by every server at start.
    from pyld import jsonld

    return jsonld


def _options() -> dict[str, Any]:
    # Without a base, pyld 3 resolves relative IRIs against http://example.org/base/ (its
    # DEFAULT_BASE_IRI): a relative id must stay what the peer wrote.
    return {"documentLoader": offline_document_loader, "base": None}


def expand(doc: Any) -> list[Any]:
    """Expanded form of `doc`; raises MalformedActivity for unknown contexts or invalid JSON-LD."""
    try:
        return _jsonld().expand(doc, _options())
    except _jsonld().JsonLdError as exc:
        raise (_our_error(exc) or MalformedActivity(f"invalid JSON-LD: {exc.args[0]}")) from exc


def compact(doc: Any, context: Any) -> dict[str, Any]:
    """`doc` compacted against `context` (a URL, a term map or a list of them)."""
    try:
        return _jsonld().compact(doc, context, _options())
    except _jsonld().JsonLdError as exc:
        raise (_our_error(exc) or MalformedActivity(f"invalid JSON-LD: {exc.args[0]}")) from exc


# --- The document fedihub processes -------------------------------------------------------------

# Caps on the JSON-LD path only (the plain path is bounded by the 1 MB body limit). pyld's time grows
# with the keys it compacts (about a quarter of a millisecond each here), and it runs before the
# signature is checked: bench/inbound_jsonld.py measures a document at these caps well under the time cap.
MAX_LD_DOCUMENT_BYTES = 64_000
MAX_LD_MEMBERS = 500  # keys and list items outside the contexts; the peers' captures have 5 to 90
MAX_LD_CONTEXT_BYTES = known_contexts.MAX_CONTEXT_BYTES  # all inline contexts of the document together
MAX_LD_DEPTH = 32
MAX_LD_SECONDS = 0.5

def _reading_loader(url: str, options: Any = None) -> dict[str, Any]:
    """The bundled contexts; any other URL reads as defining nothing, and is never requested."""
    try:
        return offline_document_loader(url, options)
    except MalformedActivity:
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": {"@context": {}}}


@cache
def _ready_jsonld() -> ModuleType:
    """pyld, imported and through the canonical context once per process: one-time costs (about 0.2 s
    of CPU to import it from source) that the first document would otherwise be charged for, and
    refused for on a loaded machine, as the time cap below counts CPU from the document's start."""
    jsonld = _jsonld()
    _read_in_canonical_context(jsonld, {"type": "Note"})
    return jsonld


def _read_in_canonical_context(jsonld: ModuleType, doc: dict[str, Any]) -> Any:
    """``doc`` expanded (its own contexts over canonical_context(), context URLs never fetched) and
    compacted against canonical_context()."""
    options = {**_options(), "documentLoader": _reading_loader, "expandContext": canonical_context()}
    return jsonld.compact(jsonld.expand(doc, options), canonical_context(), _options())


def canonical_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The document to verify and process: ``doc`` itself when its contexts are ones we know (no
    JSON-LD processing: the fast path), else process_json_ld(doc).

    Raises MalformedActivity (400) for @graph, @included or @reverse and for a context that changes
    what core ActivityStreams terms mean.
    """
    return doc if known_contexts.check_context(doc) else process_json_ld(doc)


def process_json_ld(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` expanded (its own contexts over canonical_context(), context URLs never fetched) and
    compacted against canonical_context(): every term we read under the name we read it by.

    Raises MalformedActivity (400) when the result differs from the plain reading of ``doc`` in a
    core term (who did what to what, and who may see it), and beyond the caps of this path.
    """
    _check_caps(doc)
    jsonld = _ready_jsonld()
    # CPU time of this thread, not the wall clock: the cap bounds the work a document costs, and a
    # busy machine (other requests, other processes) must not turn a cheap document into a refusal.
    started = time.thread_time()
    try:
        compacted = _read_in_canonical_context(jsonld, _without_default_language(doc))
    except jsonld.JsonLdError as exc:
        raise (_our_error(exc) or MalformedActivity(f"invalid JSON-LD: {exc.args[0]}")) from exc
    except RecursionError as exc:
        raise MalformedActivity("the document or its context is nested too deeply for JSON-LD") from exc
    except Exception as exc:  # noqa: BLE001 - pyld also fails with KeyError, ValueError … on odd contexts
        raise MalformedActivity(f"invalid JSON-LD: {type(exc).__name__}: {exc}",
                                public_message="the document is not valid JSON-LD") from exc
    if time.thread_time() - started > MAX_LD_SECONDS:
        # pyld cannot be interrupted; the caps above bound its work, and this refuses what still ran long.
        raise MalformedActivity(f"JSON-LD processing took longer than {MAX_LD_SECONDS} s",
                                public_message="the document is too costly to process as JSON-LD")
    processed = _plain_values(compacted)
    # A core term's value left under its IRI did not fit the term (a string where an id belongs):
    # what JSON-LD calls the actor would not be what we read as the actor.
    if _core_view(processed) != _core_view(doc) or known_contexts.has_core_iri_key(processed):
        raise known_contexts.core_refusal("changes what core terms such as actor or object mean here")
    return processed


def _check_caps(doc: dict[str, Any]) -> None:
    size = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
    shape = known_contexts.shape_of(doc)
    context_size = sum(len(json.dumps(c, separators=(",", ":"), ensure_ascii=False)) for c in shape.contexts)
    for over, why in (
        (size > MAX_LD_DOCUMENT_BYTES, f"is limited to {MAX_LD_DOCUMENT_BYTES} bytes; this one has {size}"),
        (shape.members > MAX_LD_MEMBERS, f"is limited to {MAX_LD_MEMBERS} keys and list items"),
        (shape.depth > MAX_LD_DEPTH, f"may nest {MAX_LD_DEPTH} levels deep"),
        (context_size > MAX_LD_CONTEXT_BYTES, f"may have {MAX_LD_CONTEXT_BYTES} bytes of contexts"),
    ):
        if over:
            raise MalformedActivity(f"a document with JSON-LD terms this server does not know {why}")


def _without_default_language(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without the "@language" of its top-level contexts (Pleroma and Mobilizon send "und"),
    so its strings compact to `name` and `content`, not to `nameMap` and `contentMap`."""
    contexts = doc.get("@context")
    entries = contexts if isinstance(contexts, list) else [contexts]
    if not any(isinstance(entry, dict) and "@language" in entry for entry in entries):
        return doc
    stripped = [{k: v for k, v in e.items() if k != "@language"} if isinstance(e, dict) else e for e in entries]
    return {**doc, "@context": stripped}


def _plain_values(value: Any) -> Any:
    """Compacted JSON-LD as the plain reader expects it: a value object is its value (a language or
    datatype the plain reader never looks at), Public is spelled in full as we write it, schema.org's
    location is the location, and our own terms are there in both the spellings we read."""
    if isinstance(value, list):
        return [_plain_values(item) for item in value]
    if isinstance(value, str):
        return PUBLIC if value == "as:Public" else value  # how compaction spells it (pitfall P14)
    if not isinstance(value, dict):
        return value
    if "@value" in value:
        return value["@value"]
    plain = {key: item if key == "@context" else _plain_values(item) for key, item in value.items()}
    if "location" not in plain and "sc:location" in plain:
        plain["location"] = plain.pop("sc:location")
    for term, compact_iri in _own_terms().items():
        if term in plain and compact_iri not in plain:
            plain[compact_iri] = plain[term]
    return plain


@cache
def _own_terms() -> dict[str, str]:
    """Terms of our own namespace, each with its compact IRI: pledge documents name hubScope as a term,
    hub actors and rosters write fedihub:hubScope (profile_reader.py reads that), and compaction can
    give only one of the two, so the processed document carries both."""
    own = {}
    for term, definition in canonical_context()[2].items():
        target = definition.get("@id") if isinstance(definition, dict) else definition
        if isinstance(target, str) and target.startswith("fedihub:"):
            own[term] = target
    return own


def _core_view(value: Any) -> Any:
    """What a plain reader takes from a document through the core terms (ids, types, actors, objects,
    addressing), with scalar-or-list and the spellings of Public folded: equal for two documents
    that mean the same to fedihub."""
    if isinstance(value, dict):
        return tuple(sorted(
            (key, _core_values(key, value[key])) for key in known_contexts.CORE_TERMS
            if key in value and _core_values(key, value[key])
        ))
    if isinstance(value, str):
        return PUBLIC if value in PUBLIC_ALIASES else value
    return value


def _core_values(key: str, value: Any) -> tuple[Any, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    if key == "type":  # only the types we act on: an extension type reads the same either way
        return tuple(item for item in items if isinstance(item, str) and item in known_contexts.as_terms())
    return tuple(_core_view(item) for item in items)
