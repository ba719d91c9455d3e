"""JSON-LD expansion and compaction with bundled context documents only, never the network."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld

from fedihub.errors import MalformedActivity

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


def _options() -> dict[str, Any]:
    return {"documentLoader": offline_document_loader}


def expand(doc: Any) -> list[Any]:
    """Expanded form of `doc`; raises MalformedActivity for unknown contexts or invalid JSON-LD."""
    try:
        return jsonld.expand(doc, _options())
    except jsonld.JsonLdError as exc:
        raise (_our_error(exc) or MalformedActivity(f"invalid JSON-LD: {exc.args[0]}")) from exc


def compact(doc: Any, context: Any) -> dict[str, Any]:
    """`doc` compacted against `context` (a URL, a term map or a list of them)."""
    try:
        return jsonld.compact(doc, context, _options())
    except jsonld.JsonLdError as exc:
        raise (_our_error(exc) or MalformedActivity(f"invalid JSON-LD: {exc.args[0]}")) from exc
