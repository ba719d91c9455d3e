"""Remote posts and calls: their columns read from any peer's document, fetched from origin and stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import DomainBlocked, RemoteInvalid
from fedihub.federation.actors import host_of, resolve_actor
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import gettext
from fedihub.protocol import fetch
from fedihub.protocol.html import html_to_text, sanitize_html
from fedihub.protocol.movements import hashtag_names
from fedihub.protocol.profile_reader import is_virtual_location, read_place
from fedihub.protocol.reader import ObjectView, as_list, id_of, parse_datetime, read_object, visibility
from fedihub.protocol.timezones import known_zone
from fedihub.protocol.urls import http_url
from fedihub.protocol.vocab import OBJECT_TYPES
from fedihub.storage.models import Actor, StoredObject

log = logging.getLogger(__name__)

# The visibility of a remote object stored only because someone here opened its link: shown on that
# page and nowhere else (no calendar, map, feed or API lists it, since all of them ask for "public" or
# "unlisted"), until it arrives the way published things do (a followed author's Create, a hub's
# Announce, a pledge); then publish_viewed gives it the visibility its addressing says.
VIEWED = "viewed"


async def find_object(session: AsyncSession, uri: str) -> StoredObject | None:
    return await session.scalar(select(StoredObject).where(StoredObject.uri == uri))


def apply_object(row: StoredObject, view: ObjectView, doc: dict, followers_uri: str | None) -> None:
    """Fill a stored object's columns from its document (remote HTML sanitised, names plain text)."""
    row.type = view.type
    # An author's Update does not publish a call only looked at here (see VIEWED).
    if row.visibility != VIEWED:
        row.visibility = visibility(view.to, view.cc, followers_uri)
    row.name = html_to_text(view.name) if view.name else None
    row.summary = sanitize_html(view.summary) if view.summary else None
    row.content = sanitize_html(view.content) if view.content else None
    row.url = view.url
    row.in_reply_to = view.in_reply_to
    row.published = parse_datetime(view.published) or row.published
    row.updated = parse_datetime(view.updated)
    row.language = view.language
    row.data = doc
    if view.type == "Event":
        apply_event(row, doc)


def publish_viewed(row: StoredObject) -> None:
    """An object first stored as only viewed arrived as published things do: list it from now on."""
    if row.visibility == VIEWED:
        view = read_object(row.data)
        row.visibility = visibility(view.to, view.cc, row.author.followers_uri if row.author else None)


async def store_remote_object(
    ctx: FederationContext, author: Actor, view: ObjectView, doc: dict, *, viewed: bool = False
) -> bool:
    """Store ``doc`` as authored by ``author`` (``viewed``: as only looked at); False when already stored."""
    try:
        async with ctx.sessions.begin() as session:
            if await session.scalar(select(StoredObject.id).where(StoredObject.uri == view.id)):
                return False
            row = StoredObject(uri=view.id, attributed_to_id=author.id, is_local=False, created_at=ctx.clock())
            apply_object(row, view, doc, author.followers_uri)
            if viewed:
                row.visibility = VIEWED
            session.add(row)
    except IntegrityError:
        return False  # another worker stored it between our check and our insert
    return True


async def fetch_original(
    ctx: FederationContext, uri: str, *, types: frozenset[str] = OBJECT_TYPES, discovered_via: str = "federation"
) -> tuple[Actor, ObjectView, dict]:
    """Fetch a public object from its origin and check that it speaks for that origin.

    Its ``id`` must be the URI fetched and its author an actor on the same host (a copy relayed
    by anyone else is never trusted, FEP-fe34); only ``types`` addressed to Public (in ``to``
    or ``cc``) are accepted. Raises DomainBlocked, RemoteInvalid and the fetch errors.
    """
    async with ctx.sessions() as session:
        if await is_blocked(session, host_of(uri)):
            raise DomainBlocked(f"{host_of(uri)} is blocked on this server")
    doc = await fetch.fetch_activitypub_document(ctx.http, uri, auth=ctx.instance_auth)
    view = read_object(doc)
    if view.type not in types:
        raise RemoteInvalid(f"{uri} is a {view.type}",
                            public_message=gettext("that link leads to a %(type)s", type=view.type))
    if view.id != uri or not view.attributed_to or host_of(view.attributed_to) != host_of(uri):
        raise RemoteInvalid(
            f"{uri} is attributed to {view.attributed_to!r}, not to an actor of its own origin",
            public_message=gettext("its author is not on the server it comes from"),
        )
    if not view.is_public:
        raise RemoteInvalid(f"{uri} is not public", public_message=gettext("it is not public"))
    author = await resolve_actor(ctx, view.attributed_to, discovered_via=discovered_via)
    return author, view, doc


async def fetch_and_store(
    ctx: FederationContext, uri: str, *, types: frozenset[str] = OBJECT_TYPES, viewed: bool = False
) -> StoredObject:
    """Fetch an object from its origin (see fetch_original) and store it as its author's Create would,
    or, ``viewed``, as only looked at (see VIEWED)."""
    author, view, doc = await fetch_original(ctx, uri, types=types, discovered_via="lookup" if viewed else "federation")
    await store_remote_object(ctx, author, view, doc, viewed=viewed)
    async with ctx.sessions() as session:
        row = await find_object(session, uri)
    assert row is not None
    return row


# --- Events: the columns that calendars, call pages and "upcoming calls" read ------------------

# FEP-8a8e eventStatus terms (also schema.org's, which share the names) and iCalendar's STATUS
# (Mobilizon `status`/`ical:status`, spec §2.2) onto the three iCalendar values we store.
_EVENT_STATUS_TERMS = {
    "EventScheduled": "CONFIRMED", "EventRescheduled": "CONFIRMED", "EventMovedOnline": "CONFIRMED",
    "EventTentative": "TENTATIVE", "EventPostponed": "TENTATIVE", "EventCancelled": "CANCELLED",
    "CONFIRMED": "CONFIRMED", "TENTATIVE": "TENTATIVE", "CANCELLED": "CANCELLED", "CANCELED": "CANCELLED",
}


def _event_status(doc: Mapping[str, Any]) -> str:
    for key in ("eventStatus", "status", "ical:status"):
        value = id_of(doc.get(key))
        if value:
            # Full IRIs too: https://w3id.org/fep/8a8e/EventCancelled, https://schema.org/EventCancelled.
            term = value.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            found = _EVENT_STATUS_TERMS.get(term) or _EVENT_STATUS_TERMS.get(term.upper())
            if found:
                return found
    return "CONFIRMED"  # Mobilizon's default when neither is sent (spec §2.2)


def _event_zone(doc: Mapping[str, Any]) -> str | None:
    """The event's IANA zone; without one, the fixed zone of its startTime's offset (Gancio sends
    none), so its wall-clock time still reads as the organiser wrote it."""
    name = known_zone(doc.get("timezone"))
    if name is not None:
        return name
    start = doc.get("startTime")
    if not isinstance(start, str):
        return None
    try:
        offset = datetime.fromisoformat(start.strip()).utcoffset()
    except ValueError:
        return None
    if offset is None:
        return None
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        return None  # no Etc/ zone for half-hour offsets
    zone = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT-2 is UTC+2
    return known_zone(zone)


def _event_time(value: Any, zone: str | None) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # A floating time is a wall-clock time in the event's zone (FEP-8a8e "Time zone").
        parsed = parsed.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return parsed.astimezone(UTC)


def _apply_place(row: StoredObject, place: Any) -> None:
    """A Place (name, string or PostalAddress address, coordinates), or a bare string."""
    found = read_place(place)
    row.location_name, row.location_address = found.name, found.address
    row.region_city, row.region_state, row.region_country = found.city, found.state, found.country
    row.latitude, row.longitude = found.latitude, found.longitude


def _online_url(doc: Mapping[str, Any], locations: list[Any]) -> str | None:
    """A VirtualLocation's url (FEP-8a8e), else Mobilizon's attachment Link named "Website" (§2.2)."""
    # Only web links: pages show this URL as a link, so javascript: and friends never get in.
    for item in locations:
        if is_virtual_location(item) and (url := http_url(id_of(item.get("url")))):
            return url
    for attachment in as_list(doc.get("attachment")):
        is_website = isinstance(attachment, Mapping) and attachment.get("type") == "Link" and (
            str(attachment.get("name", "")).casefold() == "website"
        )
        if is_website and (url := http_url(id_of(attachment.get("href")))):
            return url
    return None


def apply_event(row: StoredObject, doc: Mapping[str, Any]) -> None:
    """Fill the event columns from any peer's Event: Mobilizon, Gancio, WordPress, fedihub."""
    zone = _event_zone(doc)
    row.timezone = zone
    row.start_time = _event_time(doc.get("startTime"), zone)
    row.end_time = _event_time(doc.get("endTime"), zone)
    if row.end_time is not None and row.start_time is not None and row.end_time < row.start_time:
        row.end_time = None
    row.event_status = _event_status(doc)
    # FEP-8a8e: `location` is a Place or a VirtualLocation, or a list of them (hybrid); Gancio
    # may send a bare {"name": …} without a type, older peers a plain string.
    locations = [item for item in as_list(doc.get("location")) if isinstance(item, (str, Mapping))]
    _apply_place(row, next((item for item in locations if not is_virtual_location(item)), None))
    row.online_url = _online_url(doc, locations)
    row.movements = hashtag_names(doc)
