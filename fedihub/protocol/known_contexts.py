"""Which JSON-LD contexts fedihub reads as plain JSON, and which redefinitions of ActivityStreams
terms it refuses: the decision that keeps almost every document off pyld (see jsonld.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from fedihub.errors import MalformedActivity
from fedihub.protocol.builders import ACTOR_CONTEXT, EVENT_CONTEXT, NOTE_CONTEXT
from fedihub.protocol.pledges import PLEDGE_CONTEXT
from fedihub.protocol.vocab import FEDIHUB_NAMESPACE

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
# Mastodon writes schema.org as http://schema.org# (spec §2.1); PeerTube and WordPress http(s)://schema.org/.
_SCHEMA_SPELLINGS = ("http://schema.org#", "https://schema.org#", "https://schema.org/", "http://schema.org/")

# Vocabularies whose terms peers put in their inline contexts (interop fixtures of Mastodon, Misskey,
# Pleroma, Friendica, Mobilizon, PeerTube, Gancio, WordPress, Mitra, and our own documents).
KNOWN_NAMESPACES = frozenset({
    AS, SEC, FEDIHUB_NAMESPACE, "http://schema.org/",
    "http://joinmastodon.org/ns#", "http://ostatus.org#", "https://joinmobilizon.org/ns#",
    "https://joinpeertube.org/ns#", "http://litepub.social/ns#", "https://misskey.io/ns#",
    "https://join-lemmy.org/ns#", "https://gotosocial.org/ns#", "http://www.w3.org/2006/vcard/ns#",
    "http://purl.org/macgirvin/dfrn/1.0/", "https://diasporafoundation.org/ns/",
    "http://www.w3.org/2002/12/cal/ical#", "https://w3id.org/fep/8a8e/", "http://www.w3.org/2001/XMLSchema#",
    "http://www.w3.org/2000/01/rdf-schema#", "https://purl.archive.org/socialweb/webfinger#",
})

# Terms that say who did what to what and who may see it. Redefining one, or naming another term
# with one's IRI, makes a JSON-LD reader and a plain-JSON reader disagree on exactly that: refused
# (Mastodon CVE-2022-24307; landscape §D row 9). Their IRIs are the bundled contexts' (inbox is ldp:).
CORE_TERMS = frozenset({
    "id", "type", "actor", "object", "target", "origin", "result", "instrument", "to", "cc", "bto", "bcc",
    "audience", "attributedTo", "inReplyTo", "inbox", "outbox", "followers", "following", "endpoints",
    "sharedInbox", "publicKey", "publicKeyPem", "owner",
})
# Inline contexts larger than this are not judged term by term: JSON-LD processing refuses them.
MAX_CONTEXT_BYTES = 16_000
# How many definitions a term may go through to reach an IRI ("a": "b:x", "b": "c:y" …).
_MAX_HOPS = 8
# Definitions peers send that none of our own contexts has: Mobilizon (2019) puts Place in schema.org,
# Gancio misspells PropertyValue.
_PEER_DEFINITIONS = {"Place": "http://schema.org/Place", "ProperyValue": "http://schema.org/PropertyValue"}
# Inside an inline context, these keywords change nothing a plain reader relies on.
_HARMLESS_KEYWORDS = frozenset({"@language", "@version"})
_WRAPPERS = frozenset({"@graph", "@included", "@reverse"})


def normalise_iri(iri: str) -> str:
    for spelling in _SCHEMA_SPELLINGS:
        if iri.startswith(spelling):
            return "http://schema.org/" + iri[len(spelling):]
    return iri


def _context_entries(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


@cache
def _bundled_terms(filename: str) -> dict[str, Any]:
    text = (resources.files("fedihub.protocol") / "contexts" / filename).read_text("utf-8")
    return dict(json.loads(text)["@context"])


class _Terms:
    """Term definitions seen so far, resolved to IRIs through the prefixes they define."""

    def __init__(self, definitions: Mapping[str, Any] | None = None) -> None:
        self.definitions: dict[str, Any] = dict(definitions or {})

    def add(self, context: Mapping[str, Any]) -> None:
        self.definitions.update({k: v for k, v in context.items() if not k.startswith("@")})

    def iri(self, term: str) -> str | None:
        """What ``term`` (a term, compact IRI or IRI) stands for, or None when it cannot be told in a
        few steps (a peer may chain prefixes, or loop them)."""
        suffix = ""
        for _ in range(_MAX_HOPS):
            definition = self.definitions.get(term)
            if definition is not None:
                target = definition.get("@id") if isinstance(definition, Mapping) else definition
                if not isinstance(target, str) or target == term:
                    return None
                term = target
                continue
            prefix, colon, rest = term.partition(":")
            if term.startswith("@") or rest.startswith("//"):
                return normalise_iri(term + suffix)
            if not colon or prefix not in self.definitions:
                return None
            term, suffix = prefix, rest + suffix
        return None


_OSTATUS_TERMS = {
    "ostatus": "http://ostatus.org#",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation",
}


@cache
def canonical_context() -> list[Any]:
    """Every term fedihub reads, as our own documents define them, plus Mastodon's ostatus terms: the
    context a processed document is compacted against, and the one it is read in before its own
    applies (so a context we never fetch, Pleroma's litepub for one, does not take Hashtag away)."""
    terms: dict[str, Any] = dict(_OSTATUS_TERMS)
    for context in (ACTOR_CONTEXT, NOTE_CONTEXT, EVENT_CONTEXT, PLEDGE_CONTEXT):
        for entry in context:
            if isinstance(entry, dict):
                terms.update({term: _term_for_reading(definition) for term, definition in entry.items()})
    # Our events put `location` in schema.org as Mobilizon does; the AS term is the one peers at large
    # use (_plain_values folds schema.org's back into it).
    terms.pop("location", None)
    # Mobilizon's language of an event (protocol/languages.py reads it when no contentMap says it).
    terms.setdefault("inLanguage", "http://schema.org#inLanguage")  # spelled as Mobilizon spells schema.org
    return ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", terms]


def _term_for_reading(definition: Any) -> Any:
    # A datatype (sc:Text, sc:Boolean …) would make compaction keep a plain string or number that came
    # without it under the full IRI instead of the term: only IRI coercions and containers stay.
    if isinstance(definition, dict) and definition.get("@type") not in (None, "@id", "@vocab"):
        definition = {k: v for k, v in definition.items() if k != "@type"}
        return definition["@id"] if set(definition) == {"@id"} else definition
    return definition


@cache
def _standard_terms() -> _Terms:
    """The terms a document is read with before its own contexts: the bundled contexts and ours,
    exactly what JSON-LD processing starts from (jsonld.py uses canonical_context() as its base)."""
    terms = _Terms()
    terms.add(_bundled_terms("activitystreams.json"))
    terms.add(_bundled_terms("security-v1.json"))
    terms.add(canonical_context()[2])
    return terms


@cache
def _core_terms() -> dict[str, str]:
    """Each core term with the IRI (or keyword) the bundled contexts give it."""
    return {term: iri for term in CORE_TERMS if (iri := _standard_terms().iri(term)) is not None}


@cache
def _core_iris() -> dict[str, str]:
    return {iri: term for term, iri in _core_terms().items()}


@cache
def _read_terms() -> dict[str, frozenset[str]]:
    """Every term fedihub reads, with each IRI it is known to stand for (AS, security, our own
    contexts; Mobilizon and our events put `location` and `Place` in schema.org)."""
    accepted: dict[str, set[str]] = {}
    security = _bundled_terms("security-v1.json")
    sources = [_bundled_terms("activitystreams.json"),
               {t: security[t] for t in ("sec", "publicKey", "publicKeyPem", "owner")}]
    sources += [entry for ctx in (ACTOR_CONTEXT, NOTE_CONTEXT, EVENT_CONTEXT, PLEDGE_CONTEXT)
                for entry in ctx if isinstance(entry, dict)]
    sources.append(_PEER_DEFINITIONS)
    for source in sources:
        terms = _Terms()
        terms.add(_bundled_terms("activitystreams.json"))
        terms.add(source)
        for term in source:
            iri = None if term.startswith("@") else terms.iri(term)
            if iri is not None and not iri.endswith(("#", "/")):
                accepted.setdefault(term, set()).add(iri)
    return {term: frozenset(iris) for term, iris in accepted.items()}


@cache
def _read_iris() -> frozenset[str]:
    return frozenset(iri for iris in _read_terms().values() for iri in iris)


def _namespace_known(iri: str) -> bool:
    return iri.startswith("@") or any(iri.startswith(ns) for ns in KNOWN_NAMESPACES)


def _refusal_of(term: str, definition: Any, iri: str | None) -> str | None:
    """Why a definition is refused: it changes who did what (CORE_TERMS), aliases a keyword, or reverses."""
    if isinstance(definition, Mapping) and "@reverse" in definition:
        return f"defines {term!r} as a reverse property"
    if term in CORE_TERMS and iri is not None and iri != _core_terms().get(term):
        return f"redefines {term!r}"
    if iri in _core_iris() and term != _core_iris()[iri]:
        return f"maps {term!r} onto {_core_iris()[iri]!r}"
    if iri is not None and iri.startswith("@") and term not in CORE_TERMS:
        return f"makes {term!r} an alias of {iri}"
    return None


def _refusal(what: str) -> MalformedActivity:
    return MalformedActivity(
        f"the document's @context {what}",
        public_message=f"the document's @context {what}: fedihub refuses contexts that change what "
        "ActivityStreams terms such as id, type, actor, object and to mean",
    )


def _known_definition(term: str, iri: str | None, definition: Any) -> bool:
    if iri is None:
        return False
    if isinstance(definition, Mapping):
        if not set(definition) <= {"@id", "@type", "@container"}:
            return False
        if definition.get("@container", "@set") not in ("@set", "@list"):
            return False
    read = _read_terms().get(term)
    if read is not None:
        return iri in read
    # A term we never read: harmless in a vocabulary we know, unless it names something we do read.
    return _namespace_known(iri) and iri not in _read_iris()


def check_context(doc: Mapping[str, Any]) -> bool:
    """True when ``doc`` can be read as plain JSON: its contexts define only terms we know, with the
    meaning we read them with. False when it needs JSON-LD processing. Raises MalformedActivity (400)
    for @graph, @included and @reverse anywhere and for redefinitions of core terms.

    A context URL is never fetched: a bundled one is known, any other is read as defining nothing.
    """
    context = doc.get("@context")
    try:
        # A peer sends the same context with every activity: it is judged once.
        key = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return False
    if len(key) > MAX_CONTEXT_BYTES:
        return False
    verdict = _judge_context(key)
    if verdict.refusal is not None:
        raise _refusal(verdict.refusal)
    return _check_keys(doc, verdict.terms) and verdict.plain


@dataclass(frozen=True)
class _Verdict:
    plain: bool
    refusal: str | None
    terms: _Terms


@lru_cache(maxsize=512)
def _judge_context(context_json: str) -> _Verdict:
    terms = _Terms(_standard_terms().definitions)
    plain = True
    for entry in _context_entries(json.loads(context_json)):
        if isinstance(entry, str):
            continue
        if not isinstance(entry, Mapping):
            return _Verdict(False, None, terms)  # not a context at all: pyld will say what is wrong
        terms.add(entry)
        for key, definition in entry.items():
            if key.startswith("@"):
                plain = plain and key in _HARMLESS_KEYWORDS
                continue
            iri = terms.iri(key)
            refusal = _refusal_of(key, definition, iri)
            if refusal is not None:
                return _Verdict(False, refusal, terms)
            plain = plain and _known_definition(key, iri, definition)
    return _Verdict(plain, None, terms)


def _check_keys(doc: Mapping[str, Any], terms: _Terms) -> bool:
    """Walk the whole document: a nested @context, a key that spells a core term as an IRI
    (``as:actor``), or ``@id``/``@type`` on an object whose id and type we read sends it to JSON-LD
    processing; @graph, @included and @reverse anywhere are refused. No recursion: the depth is the
    peer's to choose. This runs on every inbound document, so it stays a plain loop."""
    plain = True
    stack: list[tuple[str, Any]] = [("", doc)]  # "": the document itself
    while stack:
        parent, value = stack.pop()
        if isinstance(value, list):
            stack.extend((parent, item) for item in value if isinstance(item, (dict, list)))
            continue
        for key, item in value.items():
            if key[:1] == "@":
                if key in _WRAPPERS:
                    raise MalformedActivity(f"the document uses {key}",
                                            public_message=f"documents with {key} are not accepted")
                if key == "@context":
                    plain = plain and value is doc
                    continue  # a context is judged as a context, not walked as data
                if key in ("@id", "@type"):
                    # Friendica writes "@type" in its vcard address; it matters only where id and type are read.
                    plain = plain and parent not in CORE_TERMS and parent != ""
            elif ":" in key and terms.iri(key) in _core_iris():
                plain = False
            if isinstance(item, (dict, list)):
                stack.append((key, item))
    return plain


def core_refusal(what: str) -> MalformedActivity:
    return _refusal(what)


@cache
def as_terms() -> frozenset[str]:
    """Every term of the ActivityStreams context (Create, Note, Public …)."""
    return frozenset(k for k in _bundled_terms("activitystreams.json") if not k.startswith("@"))


@dataclass(frozen=True)
class Shape:
    contexts: list[Any]  # every @context value in the document
    depth: int  # how deeply objects and lists nest
    members: int  # keys and list items outside the contexts: what JSON-LD processing walks


def shape_of(doc: Mapping[str, Any]) -> Shape:
    """The document's contexts and size as JSON-LD processing sees it, walked without recursion."""
    contexts: list[Any] = []
    deepest = members = 0
    stack: list[tuple[int, Any]] = [(0, doc)]
    while stack:
        depth, value = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "@context":
                    contexts.append(item)
                    continue
                members += 1
                if isinstance(item, (Mapping, list)):
                    stack.append((depth + 1, item))
        elif isinstance(value, list):
            members += len(value)
            stack.extend((depth + 1, item) for item in value if isinstance(item, (Mapping, list)))
    return Shape(contexts, deepest, members)


def has_core_iri_key(doc: Mapping[str, Any]) -> bool:
    """Whether a compacted document still has a core term under its IRI (``as:actor``, or in full)."""
    spellings = _core_spellings()
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, Mapping):
            if any(key in spellings for key in value):
                return True
            stack.extend(item for item in value.values() if isinstance(item, (Mapping, list)))
    return False


@cache
def _core_spellings() -> frozenset[str]:
    prefixes = {AS: "as:", SEC: "sec:"}
    return frozenset(
        spelling for iri in _core_iris() if not iri.startswith("@")
        for spelling in (iri, *(short + iri[len(ns):] for ns, short in prefixes.items() if iri.startswith(ns)))
    )
