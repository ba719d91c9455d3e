"""Pure AS2 builders: plain dicts in the compacted shape Mastodon and the other peers read."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fedihub.errors import InvalidInput
from fedihub.protocol.languages import build_language_maps
from fedihub.protocol.movements import build_hashtags
from fedihub.protocol.reader import as_list, id_of
from fedihub.protocol.timezones import zone_info
from fedihub.protocol.vocab import ACTOR_TYPES, AS_CONTEXT, FEDIHUB_NAMESPACE, SECURITY_CONTEXT

# Every document starts its @context with the AS IRI: Mastodon ignores documents without it
# (pitfall P15, spec §1.2 `supported_context?`).

# Extension terms of actors, as in spec §1.2. `schema` maps to Mastodon's (incorrect but
# universal) http://schema.org# so PropertyValue profile fields are recognised.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "wf": "https://purl.archive.org/socialweb/webfinger#",
        "webfinger": "wf:webfinger",
    },
]

# Terms Mastodon uses on posts that the AS context lacks.
NOTE_CONTEXT: list[Any] = [AS_CONTEXT, {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}]


def format_datetime(value: datetime) -> str:
    """ISO 8601 UTC with a "Z" and whole seconds, the form Mastodon emits.

    A naive datetime is taken as UTC: that is what SQLite hands back for stored UTC times.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ids(values: Sequence[str] | str) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


def _with_context(context: Any, body: Mapping[str, Any], extra: Mapping | None = None) -> dict:
    """Context first, then the body, then `extra`; extra's own @context entries are appended."""
    contexts = list(context) if isinstance(context, list) else [context]
    document: dict[str, Any] = {"@context": None, **body}
    for key, value in (extra or {}).items():
        if key == "@context":
            contexts.extend(value if isinstance(value, list) else [value])
        else:
            document[key] = value
    contexts = [AS_CONTEXT] + [entry for entry in contexts if entry != AS_CONTEXT]
    document["@context"] = contexts[0] if len(contexts) == 1 else contexts
    return document


def _split_context(obj: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(the object's @context or AS, the object without @context) for embedding in an activity."""
    body = {key: value for key, value in obj.items() if key != "@context"}
    return obj.get("@context", AS_CONTEXT), body


def build_actor(
    *,
    actor_id: str,
    actor_type: str,
    preferred_username: str,
    name: str,
    summary_html: str,
    url: str,
    inbox: str,
    outbox: str,
    followers: str,
    following: str,
    featured: str,
    shared_inbox: str,
    public_key_id: str,
    public_key_pem: str,
    published: datetime,
    manually_approves_followers: bool,
    discoverable: bool = True,
    indexable: bool = True,
    icon_url: str | None = None,
    icon_media_type: str | None = None,
    webfinger: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Group/Application/Person actor with every property of the spec §1.2 table."""
    if actor_type not in ACTOR_TYPES:
        raise InvalidInput(f"actor type {actor_type!r} is not one of {sorted(ACTOR_TYPES)}")
    body: dict[str, Any] = {
        "id": actor_id,
        "type": actor_type,
        "preferredUsername": preferred_username,
        "name": name,
        "summary": summary_html,
        "url": url,
        "inbox": inbox,
        "outbox": outbox,
        "followers": followers,
        "following": following,
        "featured": featured,
        "endpoints": {"sharedInbox": shared_inbox},
        "manuallyApprovesFollowers": manually_approves_followers,
        "discoverable": discoverable,
        "indexable": indexable,
        "published": format_datetime(published),
        "publicKey": {"id": public_key_id, "owner": actor_id, "publicKeyPem": public_key_pem},
    }
    if webfinger:
        body["webfinger"] = webfinger  # FEP-2c59: Mastodon ≥ 4.6 prefers it (spec §1.1)
    if icon_url:
        icon = {"type": "Image", "url": icon_url}
        if icon_media_type:
            icon["mediaType"] = icon_media_type
        body["icon"] = icon
    return _with_context(ACTOR_CONTEXT, body, extra)


def build_follow(*, activity_id: str, actor: str, target: str) -> dict[str, Any]:
    # Mastodon sends no addressing on Follow; `to` the target is harmless and lets generic
    # delivery code find the recipient.
    body = {"id": activity_id, "type": "Follow", "actor": actor, "object": target, "to": [target]}
    return _with_context(AS_CONTEXT, body)


def _answer(kind: str, activity_id: str, actor: str, activity: Mapping[str, Any]) -> dict:
    # Pitfall P7 / spec §1.7: embed the original Follow (or Join) with its own id, type, actor
    # and object, so Mastodon can match it even when it no longer knows the bare id.
    original_id, original_actor = activity.get("id"), id_of(activity.get("actor"))
    if not isinstance(original_id, str) or not original_actor:
        raise InvalidInput(f"cannot {kind} an activity without id and actor")
    embedded = {
        "id": original_id,
        "type": activity.get("type"),
        "actor": original_actor,
        "object": id_of(activity.get("object")),
    }
    body = {"id": activity_id, "type": kind, "actor": actor, "to": [original_actor]}
    return _with_context(AS_CONTEXT, {**body, "object": embedded})


def build_accept(*, activity_id: str, actor: str, activity: Mapping[str, Any]) -> dict[str, Any]:
    return _answer("Accept", activity_id, actor, activity)


def build_reject(*, activity_id: str, actor: str, activity: Mapping[str, Any]) -> dict[str, Any]:
    return _answer("Reject", activity_id, actor, activity)


def build_undo(
    *,
    activity_id: str,
    actor: str,
    activity: Mapping[str, Any],
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
) -> dict[str, Any]:
    """Undo with the original activity embedded (Mastodon matches by embedded id, §1.7)."""
    _, embedded = _split_context(activity)
    body = {"id": activity_id, "type": "Undo", "actor": actor, "to": _ids(to), "cc": _ids(cc)}
    return _with_context(AS_CONTEXT, {**body, "object": embedded})


def build_note(
    *,
    object_id: str,
    attributed_to: str,
    content_html: str,
    published: datetime,
    to: Sequence[str],
    cc: Sequence[str],
    url: str | None = None,
    in_reply_to: str | None = None,
    tags: Sequence[Mapping[str, Any]] = (),
    updated: datetime | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """A Note; with ``language``, its `contentMap` says which language the content is in (AS2 §4.7)."""
    # Deliberately no `summary`: on a Note Mastodon shows it as a content warning (pitfall P27).
    body: dict[str, Any] = {
        "id": object_id,
        "type": "Note",
        "attributedTo": attributed_to,
        "content": content_html,
        "published": format_datetime(published),
        "to": _ids(to),
        "cc": _ids(cc),
        "inReplyTo": in_reply_to,
        "tag": [dict(tag) for tag in tags],
    }
    body.update(build_language_maps(language, content=content_html))
    if url:
        body["url"] = url
    if updated:
        body["updated"] = format_datetime(updated)  # Mastodon applies edits only with it (§1.7)
    return _with_context(NOTE_CONTEXT, body)


def build_create(*, activity_id: str, actor: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """Create with the object embedded (pitfall P24) and its addressing copied."""
    if not isinstance(obj.get("id"), str):
        raise InvalidInput("Create needs an object with an id")
    context, body = _split_context(obj)
    activity: dict[str, Any] = {"id": activity_id, "type": "Create", "actor": actor}
    if "published" in body:
        activity["published"] = body["published"]
    activity.update(to=as_list(body.get("to")), cc=as_list(body.get("cc")), object=body)
    return _with_context(context, activity)


def build_update(
    *,
    activity_id: str,
    actor: str,
    obj: Mapping[str, Any],
    to: Sequence[str],
    cc: Sequence[str],
    published: datetime | None = None,
) -> dict[str, Any]:
    context, body = _split_context(obj)
    activity: dict[str, Any] = {"id": activity_id, "type": "Update", "actor": actor}
    if published:
        activity["published"] = format_datetime(published)
    activity.update(to=_ids(to), cc=_ids(cc), object=body)
    return _with_context(context, activity)


def build_delete(
    *,
    activity_id: str,
    actor: str,
    object_id: str,
    former_type: str | None = None,
    to: Sequence[str],
    cc: Sequence[str],
) -> dict[str, Any]:
    # Mastodon's own Delete carries a Tombstone (fixture mastodon/delete_tombstone.json).
    tombstone: dict[str, Any] = {"id": object_id, "type": "Tombstone"}
    if former_type:
        tombstone["formerType"] = former_type
    body = {"id": activity_id, "type": "Delete", "actor": actor, "to": _ids(to), "cc": _ids(cc)}
    return _with_context(AS_CONTEXT, {**body, "object": tombstone})


def build_delete_actor(*, activity_id: str, actor: str, to: Sequence[str]) -> dict[str, Any]:
    # Spec §1.7: an actor deletes itself with object = actor, signed with its own key.
    body = {"id": activity_id, "type": "Delete", "actor": actor, "to": _ids(to), "object": actor}
    return _with_context(AS_CONTEXT, body)


def build_announce(
    *,
    activity_id: str,
    actor: str,
    object_id: str,
    published: datetime,
    to: Sequence[str],
    cc: Sequence[str],
) -> dict[str, Any]:
    # Spec §3.8 R1: announce the object by id, never an activity, never an embedded copy (P25).
    body = {
        "id": activity_id,
        "type": "Announce",
        "actor": actor,
        "published": format_datetime(published),
        "to": _ids(to),
        "cc": _ids(cc),
        "object": object_id,
    }
    return _with_context(AS_CONTEXT, body)


def build_join(
    *,
    activity_id: str,
    actor: str,
    object_id: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    message: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Join of a group or an event (Mobilizon's membership and RSVP shape, spec §2.3/§2.4).

    ``message`` is plain text; it travels HTML-escaped in ``content`` (AS2 content is HTML).
    """
    body: dict[str, Any] = {
        "id": activity_id, "type": "Join", "actor": actor, "object": object_id, "to": _ids(to), "cc": _ids(cc),
    }
    if message:
        body["content"] = html.escape(message, quote=False)
    return _with_context(AS_CONTEXT, body, extra)


def build_leave(
    *, activity_id: str, actor: str, object_id: str, to: Sequence[str], cc: Sequence[str] = ()
) -> dict[str, Any]:
    """Leave of a group or an event (fixture mobilizon/leave_event.json)."""
    body = {"id": activity_id, "type": "Leave", "actor": actor, "object": object_id, "to": _ids(to), "cc": _ids(cc)}
    return _with_context(AS_CONTEXT, body)


def build_ordered_collection(
    *,
    collection_id: str,
    total_items: int,
    first: str | Mapping[str, Any] | None = None,
    last: str | Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    # Mastodon reads totalItems for counts and treats a collection without `first` as private
    # (finding 21), so pass `first` for every collection that should look public.
    body: dict[str, Any] = {"id": collection_id, "type": "OrderedCollection"}
    body["totalItems"] = total_items
    for key, value in (("first", first), ("last", last)):
        if value is not None:
            body[key] = value if isinstance(value, str) else _split_context(value)[1]
    return _with_context(AS_CONTEXT, body, extra)


def build_ordered_collection_page(
    *,
    page_id: str,
    part_of: str,
    items: Sequence[str | Mapping[str, Any]],
    next_id: str | None = None,
    prev_id: str | None = None,
    total_items: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": page_id, "type": "OrderedCollectionPage", "partOf": part_of}
    if total_items is not None:
        body["totalItems"] = total_items
    if next_id:
        body["next"] = next_id
    if prev_id:
        body["prev"] = prev_id
    body["orderedItems"] = [
        item if isinstance(item, str) else _split_context(item)[1] for item in items
    ]
    return _with_context(AS_CONTEXT, body, extra)


def build_tombstone(object_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted object's URL serves (with HTTP 410)."""
    body = {
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": format_datetime(deleted),
    }
    return _with_context(AS_CONTEXT, body)


# --- Events (calls to action) ----------------------------------------------------------------

# Mobilizon's term map, copied as spec §2.1/§2.7 recommends so Mobilizon, Gancio, Rebased and the
# WordPress Event Bridge read the short names as plain JSON (`sc` keeps schema.org's "#" spelling
# on purpose, as Mobilizon and Mastodon do). The `fep` terms are FEP-8a8e's own vocabulary
# (https://w3id.org/fep/8a8e), whose eventStatus values are the EventScheduled… IRIs.
EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "sc": "http://schema.org#",
        "mz": "https://joinmobilizon.org/ns#",
        "pt": "https://joinpeertube.org/ns#",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "toot": "http://joinmastodon.org/ns#",
        "fep": "https://w3id.org/fep/8a8e/",
        "Hashtag": "as:Hashtag",
        "category": "sc:category",
        "uuid": "sc:identifier",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "VirtualLocation": "sc:VirtualLocation",
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "streetAddress": "sc:streetAddress",
        "postalCode": "sc:postalCode",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "addressCountry": "sc:addressCountry",
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "joinModeType": {"@id": "mz:joinModeType", "@type": "rdfs:Class"},
        "externalParticipationUrl": {"@id": "mz:externalParticipationUrl", "@type": "sc:URL"},
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
        "anonymousParticipationEnabled": {"@id": "mz:anonymousParticipationEnabled", "@type": "sc:Boolean"},
        "repliesModerationOption": {"@id": "mz:repliesModerationOption", "@type": "mz:repliesModerationOptionType"},
        "repliesModerationOptionType": {"@id": "mz:repliesModerationOptionType", "@type": "rdfs:Class"},
        "commentsEnabled": {"@id": "pt:commentsEnabled", "@type": "sc:Boolean"},
        "status": {"@id": "ical:status", "@type": "ical:status"},
        "eventStatus": {"@id": "fep:eventStatus", "@type": "@vocab"},
        "EventScheduled": "fep:EventScheduled",
        "EventTentative": "fep:EventTentative",
        "EventCancelled": "fep:EventCancelled",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        # Pledges (docs/federation/pledges.md): our collection of the coalitions that joined, and
        # schema.org's superEvent linking a coalition's local action to the call it is part of.
        "fedihub": FEDIHUB_NAMESPACE,
        "pledges": {"@id": "fedihub:pledges", "@type": "@id"},
        "superEvent": {"@id": "sc:superEvent", "@type": "@id"},
    },
]

# iCalendar status (Mobilizon's `status`) → FEP-8a8e `eventStatus` term.
EVENT_STATUSES = {"CONFIRMED": "EventScheduled", "TENTATIVE": "EventTentative", "CANCELLED": "EventCancelled"}


@dataclass(frozen=True)
class EventPlace:
    """A physical place: schema.org Place with a PostalAddress (spec §2.2 `location`)."""

    name: str
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def _event_time(value: datetime, zone: ZoneInfo) -> str:
    # FEP-8a8e / spec §2.7: the event's own offset, not UTC, so the wall time survives.
    if value.tzinfo is None:
        raise InvalidInput("event times must be timezone-aware")
    return value.astimezone(zone).replace(microsecond=0).isoformat()


def _place_document(place: EventPlace) -> dict[str, Any]:
    address: dict[str, Any] = {"type": "PostalAddress"}
    for key, value in (
        ("streetAddress", place.street_address),
        ("addressLocality", place.locality),
        ("addressRegion", place.region),
        ("addressCountry", place.country),
    ):
        if value:
            address[key] = value
    document: dict[str, Any] = {"type": "Place", "name": place.name, "address": address}
    if place.latitude is not None and place.longitude is not None:
        # Floats, or Mobilizon does not store them (spec §2.2).
        document.update(latitude=float(place.latitude), longitude=float(place.longitude))
    return document


def build_event(
    *,
    object_id: str,
    attributed_to: str,
    name: str,
    content_html: str,
    summary_html: str,
    start: datetime,
    end: datetime | None,
    timezone: str,
    published: datetime,
    to: Sequence[str],
    cc: Sequence[str],
    url: str | None = None,
    place: EventPlace | None = None,
    online_url: str | None = None,
    status: str = "CONFIRMED",
    external_participation_url: str | None = None,
    category: str = "MOVEMENTS_POLITICS",
    hashtags: Sequence[str] = (),
    updated: datetime | None = None,
    pledges: str | None = None,
    participant_count: int = 0,
    super_event: str | None = None,
    replies: str | None = None,
    image_url: str | None = None,
    image_alt: str = "",
    image_media_type: str = "image/jpeg",
    language: str | None = None,
    summary_language: str | None = None,
) -> dict[str, Any]:
    """An Event readable by Mastodon (name + summary + url), Mobilizon, Gancio and FEP-8a8e.

    ``language`` is that of the organizer's name and content; ``summary_language`` that of the summary
    this server wrote (English where it has no catalogue for ``language``), ``language`` if not given.

    Deliberately no `actor` on the object: Rebased rejects an Event whose `actor` differs from
    `attributedTo`, and Mobilizon falls back to `attributedTo` (spec §2.7 notes).
    """
    if status not in EVENT_STATUSES:
        raise InvalidInput(f"event status must be one of {sorted(EVENT_STATUSES)}")
    zone = zone_info(timezone)
    if zone is None:
        raise InvalidInput(f"unknown time zone {timezone!r}")
    if end is not None and end <= start:
        raise InvalidInput("an event must end after it starts")
    body: dict[str, Any] = {
        "id": object_id,
        "type": "Event",
        "attributedTo": attributed_to,
        "to": _ids(to),
        "cc": _ids(cc),
        "name": name,
        "summary": summary_html,
        "content": content_html,
        "mediaType": "text/html",
        "url": url or object_id,
        "uuid": object_id.rstrip("/").rsplit("/", 1)[-1],
        "startTime": _event_time(start, zone),
    }
    # AS2 §4.7: the maps say which language the plain values are in; the plain `name`, `summary` and
    # `content` stay, since Mastodon reads them first and only falls back to the maps (spec §1.8).
    body.update(build_language_maps(language, name=name, content=content_html))
    body.update(build_language_maps(summary_language or language, summary=summary_html))
    # FEP-8a8e: an Event received without endTime is shown without one (displayEndTime false),
    # which is what an open end means; a made-up end would be shown by Mobilizon as real.
    if end is not None:
        body["endTime"] = _event_time(end, zone)
    body.update(
        timezone=timezone,
        published=format_datetime(published),
        category=category,
        # FEP-8a8e "Signaling how joins are handled": coalitions pledge with Join, accepted at once
        # ("free"); an event without a pledges collection takes part on its page ("external").
        joinMode="free" if pledges else "external",
        maximumAttendeeCapacity=0,
        status=status,
        eventStatus=EVENT_STATUSES[status],
        commentsEnabled=True,
        repliesModerationOption="allow_all",
        isOnline=place is None and online_url is not None,
    )
    virtual = {"type": "VirtualLocation", "name": "Online", "url": online_url} if online_url else None
    # One location object, never a list: Mobilizon's get_address/1 has no clause for lists
    # (framasoft/mobilizon converter/utils.ex), so a hybrid event would be dropped there. A hybrid
    # call's online link travels in the `Website` attachment, which Mobilizon and we read.
    if place is not None:
        body["location"] = _place_document(place)
    elif virtual is not None:
        body["location"] = virtual
    attachments: list[dict[str, Any]] = []
    if online_url:
        # Mobilizon's online address: a Link named "Website" with exactly this mediaType (§2.2).
        attachments.append({"type": "Link", "name": "Website", "mediaType": "text/html", "href": online_url})
    if image_url:
        # First, so Mastodon shows it and Mobilizon and Gancio take it as the event's picture.
        attachments.insert(0, build_image_attachment(image_url, image_alt, image_media_type))
        body["image"] = build_image(image_url, image_alt, image_media_type)
    body["attachment"] = attachments
    body["tag"] = build_hashtags(hashtags)
    if pledges:
        body.update(pledges=pledges, participantCount=participant_count)
    else:
        body["externalParticipationUrl"] = external_participation_url or url or object_id
    if super_event:
        body["superEvent"] = super_event
    if replies:
        body["replies"] = replies  # the replies kept under the call, hidden ones left out
    if updated:
        body["updated"] = format_datetime(updated)
    return _with_context(EVENT_CONTEXT, body)


def build_flag(*, activity_id: str, actor: str, objects: Sequence[str], content: str) -> dict[str, Any]:
    """A report, in Mastodon's shape (FlagSerializer): sent by the instance actor, ``object`` the reported
    actor then its posts, ``content`` the comment. No `to`: it goes to one server's inbox, and naming
    whoever asked for it would expose the reporter (landscape §D 15)."""
    body = {"id": activity_id, "type": "Flag", "actor": actor, "content": content, "object": _ids(objects)}
    return _with_context(AS_CONTEXT, body)


def build_image(url: str, alt: str, media_type: str) -> dict[str, Any]:
    """An `image`: an actor's header for Mastodon (spec §1.2), an Event's picture for FEP-8a8e
    readers such as the WordPress Event Bridge; `name` is the alt text."""
    return {"type": "Image", "mediaType": media_type, "url": url, "name": alt}


def build_image_attachment(url: str, alt: str, media_type: str) -> dict[str, Any]:
    """A picture in `attachment`: Mastodon imports it as media with `name` as its description
    (spec §1.8); Mobilizon and Gancio take the first one as the event's banner (spec §2.2, §2.6).
    Not named "Banner" as Mobilizon names its own: Mastodon would show that word as the description."""
    return {"type": "Document", "mediaType": media_type, "url": url, "name": alt}
