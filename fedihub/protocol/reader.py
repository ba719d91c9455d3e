"""Plain-JSON reader that normalises ActivityPub documents from any peer into small frozen views."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fedihub.errors import MalformedActivity
from fedihub.protocol.languages import language_of
from fedihub.protocol.limits import MAX_JSON_DEPTH
from fedihub.protocol.media_types import media_type_of
from fedihub.protocol.urls import MAX_URL, http_url
from fedihub.protocol.vocab import ACTIVITY_TYPES, ACTOR_TYPES, OBJECT_TYPES, PUBLIC_ALIASES

# No JSON-LD on the hot path (ARCHITECTURE "JSON-LD"): every peer we test against uses the
# standard compacted AS2 term names, so plain JSON plus these normalisers is enough. What we must
# absorb is the compaction variance of pitfall P14: scalar-or-list, id-or-embedded-object.

Doc = Mapping[str, Any]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Every ActivityStreams type name is shorter; a longer one is nothing we act on (and would not fit the
# type columns).
MAX_TYPE_NAME = 32
# preferredUsername is stored as the actor's username; Mastodon allows 30 characters.
MAX_USERNAME = 255
MAX_HOST = 253  # RFC 1035: the longest DNS name


def decode_json(body: bytes | str) -> Any:
    """The JSON document in ``body`` as fedihub reads it: no NUL characters (without_nul), lone UTF-16
    surrogates replaced by U+FFFD, and at most MAX_JSON_DEPTH levels of objects and lists.

    Raises MalformedActivity for anything else: invalid JSON or UTF-8, NaN or Infinity, or deeper nesting (100,000
    nested brackets made the parser, and every recursive reader after it, fail with RecursionError).
    """
    try:
        decoded = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise MalformedActivity("the body is not valid JSON") from None
    except RecursionError:  # the C parser's own guard, well before a 1 MB body ends
        raise MalformedActivity(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    return without_nul(decoded)


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity, which are not JSON (RFC 8259 §6), and PostgreSQL refuses them
    # in a json column: an accepted activity could then never be stored.
    raise ValueError(f"{name} is not a JSON number")


def without_nul(value: Any) -> Any:
    """A decoded JSON document with every NUL character removed from its strings and keys, and every
    lone UTF-16 surrogate replaced by U+FFFD; raises MalformedActivity beyond MAX_JSON_DEPTH.

    JSON may carry "\\u0000" and Python keeps it, but PostgreSQL refuses NUL in text columns, so a
    peer's stray NUL in a place name would make an accepted activity fail to store forever. A lone
    surrogate ("\\ud800", what a JavaScript server writes when it cuts an emoji in half) is valid
    JSON but not Unicode: it cannot be encoded as UTF-8 for the database, a page or a delivery.
    Walked without recursion: the depth is the peer's to choose.
    """
    if not isinstance(value, (dict, list)):
        return _clean_text(value)
    root: list[Any] = [value]
    # (container as decoded, where its cleaned copy goes, key or index there, depth)
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        source, parent, slot, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise MalformedActivity(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
        copy: Any = [None] * len(source) if isinstance(source, list) else {}
        parent[slot] = copy
        items = enumerate(source) if isinstance(source, list) else source.items()
        for key, item in items:
            if isinstance(copy, dict):
                key = _clean_text(key)
                copy[key] = None
            if isinstance(item, (dict, list)):
                stack.append((item, copy, key, depth + 1))
            else:
                copy[key] = _clean_text(item)
    return root[0]


def _clean_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def as_list(value: Any) -> list[Any]:
    """None → [], list/tuple → list, anything else → [value] (GoToSocial sends scalar `to`)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a reference: a string itself, an object's `id` (or a Link's `href`); an id longer
    than any URL we store (MAX_URL) is no usable reference."""
    if isinstance(value, str):
        return value if value and len(value) <= MAX_URL else None
    if isinstance(value, Mapping):
        for key in ("id", "href"):
            if isinstance(value.get(key), str) and value[key] and len(value[key]) <= MAX_URL:
                return value[key]
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            found = id_of(item)
            if found:
                return found
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def ids_of(value: Any) -> tuple[str, ...]:
    """All ids in a scalar-or-list property, in order, skipping entries without one."""
    return tuple(found for found in (id_of(item) for item in as_list(value)) if found)


def is_public_address(iri: Any) -> bool:
    """True for any spelling of the Public collection (spec §1.7, finding 23)."""
    return isinstance(iri, str) and iri in PUBLIC_ALIASES


def has_public(addresses: Any) -> bool:
    return any(is_public_address(address) for address in ids_of(addresses))


def mention_hrefs(doc: Mapping[str, Any]) -> list[str]:
    """The actor ids of an object's ``Mention`` tags, each once (Mastodon tags every @-mention so)."""
    found = []
    for tag in as_list(doc.get("tag")):
        if isinstance(tag, Mapping) and tag.get("type") == "Mention":
            href = id_of(tag.get("href"))
            if href:
                found.append(href)
    return list(dict.fromkeys(found))


def visibility(to: Any, cc: Any, followers_uri: str | None) -> str:
    """Mastodon's visibility classes from addressing (spec §1.7 table).

    "limited" and "direct" are not told apart here (that needs the Mention tags); both are
    "direct" to us. Without a known followers URI, followers-only posts read as direct, exactly as
    Mastodon does (misskey#17706).
    """
    if has_public(to):
        return "public"
    if has_public(cc):
        return "unlisted"
    if followers_uri and followers_uri in ids_of(to) + ids_of(cc):
        return "followers"
    return "direct"


def _type_of(doc: Doc, preferred: frozenset[str]) -> str | None:
    # `type` may be a list (e.g. ["Event", "sc:Event"]): take the first one we know.
    # An object-valued type ({"id": …}) is no type name at all.
    names = [name for name in as_list(doc.get("type")) if isinstance(name, str) and 0 < len(name) <= MAX_TYPE_NAME]
    for name in names:
        if name in preferred:
            return name
    return names[0] if names else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _short(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def _text(doc: Doc, key: str) -> str | None:
    """A natural-language property, falling back to the first value of its `…Map` form."""
    value = doc.get(key)
    if isinstance(value, str):
        return value
    language_map = doc.get(key + "Map")
    if isinstance(language_map, Mapping):
        for mapped in language_map.values():
            if isinstance(mapped, str):
                return mapped
    return None


def _require_mapping(doc: Any, what: str) -> Doc:
    if not isinstance(doc, Mapping):
        raise MalformedActivity(f"{what} must be a JSON object, got {type(doc).__name__}")
    return doc


def _require_id(doc: Doc, what: str) -> str:
    found = doc.get("id")
    if not isinstance(found, str) or not found:
        raise MalformedActivity(f"{what} has no string 'id'")
    if len(found) > MAX_URL:
        raise MalformedActivity(f"{what} has an id longer than {MAX_URL} characters")
    return found


def _has_dns_host(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return True  # not a URL at all: what fetches it refuses it
    return len(host) <= MAX_HOST


def _url(value: str | None) -> str | None:
    """A link we may show as an href: http(s) only. A peer's ``url: "javascript:…"`` (or data:, or a
    relative path) is no link at all, whatever page or feed would render it."""
    return http_url(value)


def _best_url(value: Any) -> str | None:
    """A plain string url, else the first text/html Link href, else the first href at all.

    PeerTube sends `url` as a list of Links (HTML page first, then video files); Mastodon shows
    only an HTML link (spec §1.8).
    """
    fallback: str | None = None
    for item in as_list(value):
        if isinstance(item, str) and item:
            return item
        if isinstance(item, Mapping):
            href = _str(item.get("href"))  # no recursion: a peer controls the nesting depth
            if href and media_type_of(_str(item.get("mediaType"))) == "text/html":
                return href
            fallback = fallback or href
    return fallback


def _icon_url(value: Any) -> str | None:
    """Avatar URL from an Image, a string, or a list of Images (PeerTube: take the largest)."""
    images = as_list(value)
    if not images:
        return None
    if len(images) > 1 and all(isinstance(image, Mapping) for image in images):

        def area(image: Mapping[str, Any]) -> int:
            width, height = image.get("width"), image.get("height")
            if isinstance(width, int) and isinstance(height, int):
                return width * height
            return 0

        images = sorted(images, key=area, reverse=True)  # stable: ties keep the first
    for image in images:
        found = image if isinstance(image, str) else None
        if isinstance(image, Mapping):
            found = _best_url(image.get("url")) or _str(image.get("href"))
        if found:
            return found
    return None


class _Addressed:
    """Visibility helpers shared by activities and objects (both carry `to` and `cc`)."""

    to: tuple[str, ...]
    cc: tuple[str, ...]

    @property
    def is_public(self) -> bool:
        return has_public(self.to) or has_public(self.cc)

    def visibility(self, followers_uri: str | None) -> str:
        return visibility(self.to, self.cc, followers_uri)


@dataclass(frozen=True)
class ActivityView(_Addressed):
    id: str
    type: str
    actor: str
    object_id: str | None
    object: Mapping[str, Any] | None
    target_id: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: tuple[str, ...]
    published: str | None
    raw: Mapping[str, Any]


def read_activity(doc: Any) -> ActivityView:
    """Read an activity; id, type and actor are required (every peer we know sends them).

    `@context` is not required: the Gancio capture (`gancio/create_event.json`) has none.
    """
    doc = _require_mapping(doc, "activity")
    activity_id = _require_id(doc, "activity")
    activity_type = _type_of(doc, ACTIVITY_TYPES)
    if not activity_type:
        raise MalformedActivity(f"activity {activity_id} has no 'type'")
    actor = id_of(doc.get("actor"))
    if not actor:
        raise MalformedActivity(f"activity {activity_id} has no 'actor' id")
    raw_object = doc.get("object")
    first_object = as_list(raw_object)[0] if as_list(raw_object) else None
    return ActivityView(
        id=activity_id,
        type=activity_type,
        actor=actor,
        object_id=id_of(first_object),
        object=first_object if isinstance(first_object, Mapping) else None,
        target_id=id_of(doc.get("target")),
        to=ids_of(doc.get("to")),
        cc=ids_of(doc.get("cc")),
        audience=ids_of(doc.get("audience")),
        published=_str(doc.get("published")),
        raw=doc,
    )


def unwrap_announced(doc: Any) -> tuple[str | None, Mapping[str, Any] | None]:
    """What an Announce shares: (object id, embedded object or None).

    Spec §3.8 R2/R7: a FEP-1b12 group (Lemmy) sends Announce(Create(X)); a hub may relay
    Announce(Announce(X)). Both unwrap to X, so we never boost an activity.
    """
    doc = _require_mapping(doc, "Announce")
    current: Any = doc.get("object")
    for _ in range(4):  # bounded: a hostile peer could nest activities without end
        current = as_list(current)[0] if as_list(current) else None
        if isinstance(current, Mapping) and _type_of(current, ACTIVITY_TYPES) in (
            "Create",
            "Announce",
        ):
            current = current.get("object")
            continue
        break
    return id_of(current), current if isinstance(current, Mapping) else None


@dataclass(frozen=True)
class ActorView:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    summary: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    url: str | None
    icon_url: str | None
    public_key_id: str | None
    public_key_owner: str | None
    public_key_pem: str | None
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    published: str | None
    webfinger: str | None
    raw: Mapping[str, Any]


def _public_key(doc: Doc, actor_id: str) -> tuple[str | None, str | None, str | None]:
    """(key id, owner, PEM) from `publicKey` as an object, a list of objects or a bare id.

    Pitfall P30: a bare id (GoToSocial stub, key fetched separately) gives no PEM; with several
    keys we take the first one the actor owns.
    """
    keys = as_list(doc.get("publicKey"))
    objects = [key for key in keys if isinstance(key, Mapping)]
    owned = [key for key in objects if id_of(key.get("owner")) in (actor_id, None)]
    if objects:
        key = (owned or objects)[0]
        return _str(key.get("id")), id_of(key.get("owner")), _str(key.get("publicKeyPem"))
    return id_of(keys), None, None


def read_actor(doc: Any) -> ActorView:
    """Read an actor document; id, an actor type (spec §1.2) and inbox are required."""
    doc = _require_mapping(doc, "actor")
    actor_id = _require_id(doc, "actor")
    actor_type = _type_of(doc, ACTOR_TYPES)
    if actor_type not in ACTOR_TYPES:
        raise MalformedActivity(f"{actor_id} has type {actor_type!r}, not an actor type")
    inbox = id_of(doc.get("inbox"))
    if not inbox:
        raise MalformedActivity(f"actor {actor_id} has no 'inbox'")
    if not (_has_dns_host(actor_id) and _has_dns_host(inbox)):
        # Domains are stored (and deliveries grouped) by host: a longer one is no DNS name anyway.
        raise MalformedActivity(f"actor {actor_id[:100]} has a host name longer than {MAX_HOST} characters")
    endpoints = doc.get("endpoints")
    shared_inbox = id_of(endpoints.get("sharedInbox")) if isinstance(endpoints, Mapping) else None
    shared_inbox = shared_inbox or id_of(doc.get("sharedInbox"))  # Misskey: top-level (misskey/actor_person.json)
    shared_inbox = shared_inbox if shared_inbox and _has_dns_host(shared_inbox) else None
    key_id, key_owner, key_pem = _public_key(doc, actor_id)
    return ActorView(
        id=actor_id,
        type=actor_type,
        preferred_username=_short(doc.get("preferredUsername"), MAX_USERNAME),
        name=_text(doc, "name"),
        summary=_text(doc, "summary"),
        inbox=inbox,
        shared_inbox=shared_inbox,
        outbox=id_of(doc.get("outbox")),
        followers=id_of(doc.get("followers")),
        following=id_of(doc.get("following")),
        featured=id_of(doc.get("featured")),
        url=_url(_best_url(doc.get("url"))),
        icon_url=_url(_icon_url(doc.get("icon"))),
        public_key_id=key_id,
        public_key_owner=key_owner,
        public_key_pem=key_pem,
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        # Missing means "no" for both (Mastodon docs; FEP-5feb for indexable).
        discoverable=doc.get("discoverable") is True,
        indexable=doc.get("indexable") is True,
        published=_str(doc.get("published")),
        webfinger=_str(doc.get("webfinger")),  # FEP-2c59, Mastodon ≥ 4.6 (spec §1.1)
        raw=doc,
    )


@dataclass(frozen=True)
class ObjectView(_Addressed):
    id: str
    type: str
    attributed_to: str | None
    name: str | None
    summary: str | None
    content: str
    media_type: str | None
    url: str | None
    in_reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: tuple[str, ...]
    published: str | None
    updated: str | None
    start_time: str | None
    end_time: str | None
    timezone: str | None
    location_name: str | None
    status: str | None
    sensitive: bool
    tags: tuple[Mapping[str, Any], ...]
    attachments: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any]
    language: str | None = None


def _attributed_to(doc: Doc) -> str | None:
    """The author: PeerTube lists [account Person, channel Group]; Lemmy may list a moderators
    collection, so an embedded actor-typed entry wins over a bare string."""
    entries = as_list(doc.get("attributedTo"))
    for entry in entries:
        if isinstance(entry, Mapping) and _type_of(entry, ACTOR_TYPES) in ACTOR_TYPES:
            if id_of(entry):
                return id_of(entry)
    for entry in entries:
        if isinstance(entry, str) and entry:
            return entry
    # Mobilizon puts the organiser in a non-standard `actor` on objects and reads it back as a
    # fallback for attributedTo (spec §2.2).
    return id_of(entries) or id_of(doc.get("actor"))


def _location_name(value: Any) -> str | None:
    # A string, a Place with a (possibly null) name, or a list of those (Gancio, FEP-8a8e).
    for item in as_list(value):
        if isinstance(item, str) and item:
            return item
        if isinstance(item, Mapping) and isinstance(item.get("name"), str) and item["name"]:
            return item["name"]
    return None


def read_object(doc: Any) -> ObjectView:
    """Read a content object (Note, Event, Page…); id and type are required, any type is read."""
    doc = _require_mapping(doc, "object")
    object_id = _require_id(doc, "object")
    object_type = _type_of(doc, OBJECT_TYPES)
    if not object_type:
        raise MalformedActivity(f"object {object_id} has no 'type'")
    return ObjectView(
        id=object_id,
        type=object_type,
        attributed_to=_attributed_to(doc),
        name=_text(doc, "name"),
        summary=_text(doc, "summary"),
        content=_text(doc, "content") or "",
        media_type=_str(doc.get("mediaType")),
        url=_url(_best_url(doc.get("url"))),
        in_reply_to=id_of(doc.get("inReplyTo")),
        to=ids_of(doc.get("to")),
        cc=ids_of(doc.get("cc")),
        audience=ids_of(doc.get("audience")),
        published=_str(doc.get("published")),
        updated=_str(doc.get("updated")),
        start_time=_str(doc.get("startTime")),
        end_time=_str(doc.get("endTime")),
        timezone=_str(doc.get("timezone")),
        location_name=_location_name(doc.get("location")),
        # Mobilizon sends the legacy compact IRI `ical:status` too, WordPress only `status`
        # (spec §2.2: status falls back to ical:status).
        status=_str(doc.get("status")) or _str(doc.get("ical:status")),
        sensitive=doc.get("sensitive") is True,
        tags=tuple(tag for tag in as_list(doc.get("tag")) if isinstance(tag, Mapping)),
        attachments=tuple(a for a in as_list(doc.get("attachment")) if isinstance(a, Mapping)),
        raw=doc,
        language=language_of(doc),
    )
