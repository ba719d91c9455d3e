"""Inbound handlers for the core activities: follows, content from followed actors, reactions."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actors import find_actor, host_of, store_remote_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.follows import accept_follow, find_follow
from fedihub.federation.processing import Dispatcher, Inbound
from fedihub.protocol import fetch
from fedihub.protocol.html import html_to_text, sanitize_html
from fedihub.protocol.reader import ObjectView, as_list, id_of, parse_datetime, read_object, visibility
from fedihub.protocol.vocab import ACTOR_TYPES, OBJECT_TYPES
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject

log = logging.getLogger(__name__)


def _embedded(inbound: Inbound) -> dict | None:
    obj = inbound.activity.object
    return obj if isinstance(obj, dict) else None


async def _local_target(session: AsyncSession, uri: str | None) -> Actor | None:
    if uri is None:
        return None
    actor = await find_actor(session, uri)
    if actor is None or not actor.is_local or actor.deleted_at is not None:
        return None
    return actor


# --- Follow, Accept, Reject, Undo ----------------------------------------------------------------


async def handle_follow(ctx: FederationContext, inbound: Inbound) -> None:
    """Record the follow; accept at once unless the target approves followers manually."""
    activity = inbound.activity
    async with ctx.sessions.begin() as session:
        target = await _local_target(session, activity.object_id)
        if target is None or target.type == "Application":
            return
        follower = await session.get(Actor, inbound.actor.id)
        assert follower is not None
        row = await find_follow(session, follower.id, target.id)
        now = ctx.clock()
        follow_doc = {
            "id": activity.id, "type": "Follow", "actor": follower.uri, "object": target.uri,
        }
        if row is None:
            row = Follow(
                uri=activity.id, follower_id=follower.id, target_id=target.id, state="pending",
                data=follow_doc, created_at=now, updated_at=now,
            )
            session.add(row)
            await session.flush()
            await session.refresh(row)
        else:
            # A repeated Follow (say, after the follower lost its state) gets a fresh Accept
            # that embeds the new Follow id, which is what the follower will match on.
            row.uri = activity.id
            row.data = follow_doc
        if row.state == "accepted" or not target.manually_approves_followers:
            await accept_follow(ctx, session, row)


async def _our_follow(session: AsyncSession, inbound: Inbound) -> Follow | None:
    """The follow of ours that an Accept or Reject answers: by Follow id, else by its parties."""
    follow_id = inbound.activity.object_id
    if follow_id:
        row = await session.scalar(select(Follow).where(Follow.uri == follow_id))
        if row is not None:
            return row if row.target_id == inbound.actor.id else None
    embedded = _embedded(inbound)
    follower_uri = id_of(embedded.get("actor")) if embedded else None
    follower = await _local_target(session, follower_uri)
    if follower is None:
        return None
    return await find_follow(session, follower.id, inbound.actor.id)


async def handle_accept(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _our_follow(session, inbound)
        if row is not None and row.follower.is_local:
            row.state = "accepted"
            row.updated_at = ctx.clock()


async def handle_reject(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _our_follow(session, inbound)
        if row is not None and row.follower.is_local:
            await session.delete(row)


async def handle_undo(ctx: FederationContext, inbound: Inbound) -> None:
    """Undo of a Follow, Like or Announce; the undone activity must be the same actor's."""
    inner = _embedded(inbound)
    inner_id = inbound.activity.object_id
    inner_type = inner.get("type") if inner else None
    if inner is not None and id_of(inner.get("actor")) != inbound.actor.uri:
        return
    async with ctx.sessions.begin() as session:
        if inner_type in (None, "Follow"):
            row = await session.scalar(
                select(Follow).where(Follow.uri == inner_id, Follow.follower_id == inbound.actor.id)
            ) if inner_id else None
            if row is None and inner is not None:
                target = await _local_target(session, id_of(inner.get("object")))
                row = await find_follow(session, inbound.actor.id, target.id) if target else None
            if row is not None:
                await session.delete(row)
                return
        if inner_id:
            await session.execute(
                delete(Reaction).where(Reaction.uri == inner_id, Reaction.actor_id == inbound.actor.id)
            )


# --- Content: Create, Update, Delete ------------------------------------------------------------


async def _is_followed_by_local(session: AsyncSession, actor_id: int) -> bool:
    follow = await session.scalar(
        select(Follow.id)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.target_id == actor_id, Follow.state == "accepted", Actor.is_local.is_(True))
        .limit(1)
    )
    return follow is not None


async def _object_document(ctx: FederationContext, inbound: Inbound) -> dict | None:
    """The object of a Create or Update: embedded when same-origin as the actor, else fetched."""
    embedded = _embedded(inbound)
    object_id = inbound.activity.object_id
    if object_id is None:
        return None
    if embedded is not None and host_of(object_id) == host_of(inbound.actor.uri):
        return embedded
    # A copy embedded by someone else is not trusted (FEP-fe34): fetch it from its origin.
    return await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)


def _apply_object(row: StoredObject, view: ObjectView, doc: dict, followers_uri: str | None) -> None:
    row.type = view.type
    row.visibility = visibility(view.to, view.cc, followers_uri)
    row.name = html_to_text(view.name) if view.name else None
    row.summary = sanitize_html(view.summary) if view.summary else None
    row.content = sanitize_html(view.content) if view.content else None
    row.url = view.url
    row.in_reply_to = view.in_reply_to
    row.published = parse_datetime(view.published) or row.published
    row.updated = parse_datetime(view.updated)
    row.data = doc
    if view.type == "Event":
        _apply_event(row, doc)


# --- Events: the columns that calendars, call pages and "upcoming calls" read ------------------

# FEP-8a8e eventStatus terms (also schema.org's, which share the names) and iCalendar's STATUS
# (Mobilizon `status`/`ical:status`, spec §2.2) onto the three iCalendar values we store.
_EVENT_STATUS_TERMS = {
    "EventScheduled": "CONFIRMED", "EventRescheduled": "CONFIRMED", "EventMovedOnline": "CONFIRMED",
    "EventTentative": "TENTATIVE", "EventPostponed": "TENTATIVE", "EventCancelled": "CANCELLED",
    "CONFIRMED": "CONFIRMED", "TENTATIVE": "TENTATIVE", "CANCELLED": "CANCELLED", "CANCELED": "CANCELLED",
}
MAX_EVENT_TEXT = 1000
MAX_REGION = 200
MAX_MOVEMENTS = 20


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _clean(value: Any, limit: int) -> str | None:
    if isinstance(value, Mapping):  # schema.org allows e.g. addressCountry as a Country object
        value = value.get("name")
    if not isinstance(value, str):
        return None
    return " ".join(value.split())[:limit] or None


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
    name = doc.get("timezone")
    if isinstance(name, str) and name.strip() in _known_timezones():
        return name.strip()
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
    return zone if zone in _known_timezones() else None


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


def _web_url(value: Any) -> str | None:
    # Only web links: pages show this URL as a link, so javascript: and friends never get in.
    url = id_of(value)
    if url and len(url) <= 2048 and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def _is_virtual(item: Any) -> bool:
    return isinstance(item, Mapping) and "VirtualLocation" in as_list(item.get("type"))


def _apply_place(row: StoredObject, place: Any) -> None:
    """A Place (name, string or PostalAddress address, coordinates), or a bare string."""
    row.location_name = row.location_address = None
    row.region_city = row.region_state = row.region_country = None
    row.latitude = row.longitude = None
    if not isinstance(place, Mapping):
        row.location_name = _clean(place, MAX_EVENT_TEXT)
        return
    row.location_name = _clean(place.get("name"), MAX_EVENT_TEXT)
    address = place.get("address")
    if isinstance(address, Mapping):  # schema.org PostalAddress (Mobilizon, WordPress, fedihub)
        street = (_clean(address.get(key), MAX_EVENT_TEXT) for key in ("streetAddress", "postalCode"))
        row.location_address = ", ".join(filter(None, street))[:MAX_EVENT_TEXT] or None
        row.region_city = _clean(address.get("addressLocality"), MAX_REGION)
        row.region_state = _clean(address.get("addressRegion"), MAX_REGION)
        row.region_country = _clean(address.get("addressCountry"), MAX_REGION)
    else:
        row.location_address = _clean(address, MAX_EVENT_TEXT)
    # Mobilizon 2019 put the coordinates in `geo` (fixture mobilizon/event_2019_geo.json).
    geo = place.get("geo") if isinstance(place.get("geo"), Mapping) else place
    latitude, longitude = _coordinate(geo.get("latitude"), 90), _coordinate(geo.get("longitude"), 180)
    if latitude is not None and longitude is not None:
        row.latitude, row.longitude = latitude, longitude


def _online_url(doc: Mapping[str, Any], locations: list[Any]) -> str | None:
    """A VirtualLocation's url (FEP-8a8e), else Mobilizon's attachment Link named "Website" (§2.2)."""
    for item in locations:
        if _is_virtual(item) and (url := _web_url(item.get("url"))):
            return url
    for attachment in as_list(doc.get("attachment")):
        is_website = isinstance(attachment, Mapping) and attachment.get("type") == "Link" and (
            str(attachment.get("name", "")).casefold() == "website"
        )
        if is_website and (url := _web_url(attachment.get("href"))):
            return url
    return None


def _hashtags(doc: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for tag in as_list(doc.get("tag")):
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag":
            name = (_clean(tag.get("name"), 64) or "").lstrip("#")
            if name and name.casefold() not in (seen.casefold() for seen in found):
                found.append(name)
    return found[:MAX_MOVEMENTS]


def _apply_event(row: StoredObject, doc: Mapping[str, Any]) -> None:
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
    _apply_place(row, next((item for item in locations if not _is_virtual(item)), None))
    row.online_url = _online_url(doc, locations)
    row.movements = _hashtags(doc)


async def handle_create(ctx: FederationContext, inbound: Inbound) -> None:
    """Store a Note, Article, Page or Event from an actor one of our actors follows."""
    if inbound.actor.is_local:
        return
    async with ctx.sessions() as session:
        if not await _is_followed_by_local(session, inbound.actor.id):
            return
        if inbound.activity.object_id and await session.scalar(
            select(StoredObject.id).where(StoredObject.uri == inbound.activity.object_id)
        ):
            return
    doc = await _object_document(ctx, inbound)
    if doc is None:
        return
    view = read_object(doc)
    if view.type not in OBJECT_TYPES or view.attributed_to != inbound.actor.uri:
        return
    async with ctx.sessions.begin() as session:
        if await session.scalar(select(StoredObject.id).where(StoredObject.uri == view.id)):
            return
        row = StoredObject(
            uri=view.id, attributed_to_id=inbound.actor.id, is_local=False, created_at=ctx.clock()
        )
        _apply_object(row, view, doc, inbound.actor.followers_uri)
        session.add(row)


async def handle_update(ctx: FederationContext, inbound: Inbound) -> None:
    """Update of the actor itself (profile refresh) or of an object it authored that we store."""
    embedded = _embedded(inbound)
    object_id = inbound.activity.object_id
    if object_id == inbound.actor.uri:
        if embedded is not None and embedded.get("type") in ACTOR_TYPES:
            async with ctx.sessions.begin() as session:
                await store_remote_actor(ctx, session, embedded)
        return
    async with ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
    if row is None or row.attributed_to_id != inbound.actor.id or row.is_local:
        return
    doc = await _object_document(ctx, inbound)
    if doc is None:
        return
    view = read_object(doc)
    if view.id != row.uri or view.attributed_to != inbound.actor.uri or view.type not in OBJECT_TYPES:
        return
    async with ctx.sessions.begin() as session:
        fresh = await session.get(StoredObject, row.id)
        if fresh is not None:
            _apply_object(fresh, view, doc, inbound.actor.followers_uri)


async def handle_delete(ctx: FederationContext, inbound: Inbound) -> None:
    """Delete of the actor itself, or of an object it authored."""
    object_id = inbound.activity.object_id
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if object_id == inbound.actor.uri:
            actor = await session.get(Actor, inbound.actor.id)
            if actor is None or actor.is_local:
                return
            actor.deleted_at = now
            await session.execute(
                delete(Follow).where((Follow.follower_id == actor.id) | (Follow.target_id == actor.id))
            )
            await session.execute(
                update(StoredObject)
                .where(StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None))
                .values(deleted_at=now)
            )
            return
        await session.execute(
            update(StoredObject)
            .where(
                StoredObject.uri == object_id,
                StoredObject.attributed_to_id == inbound.actor.id,
                StoredObject.is_local.is_(False),
            )
            .values(deleted_at=now)
        )


# --- Reactions -----------------------------------------------------------------------------------


async def _record_reaction(ctx: FederationContext, inbound: Inbound, kind: str) -> None:
    object_id = inbound.activity.object_id
    if object_id is None:
        return
    async with ctx.sessions.begin() as session:
        if await session.scalar(select(Reaction.id).where(Reaction.uri == inbound.activity.id)):
            return
        known = ctx.urls.is_local(object_id) or await session.scalar(
            select(StoredObject.id).where(StoredObject.uri == object_id)
        )
        if not known:
            return
        session.add(
            Reaction(
                uri=inbound.activity.id, type=kind, actor_id=inbound.actor.id, object_uri=object_id,
                created_at=ctx.clock(),
            )
        )


async def handle_announce(ctx: FederationContext, inbound: Inbound) -> None:
    await _record_reaction(ctx, inbound, "Announce")


async def handle_like(ctx: FederationContext, inbound: Inbound) -> None:
    await _record_reaction(ctx, inbound, "Like")


def register_core_handlers(dispatcher: Dispatcher) -> None:
    dispatcher.register("Follow", handle_follow)
    dispatcher.register("Accept", handle_accept)
    dispatcher.register("Reject", handle_reject)
    dispatcher.register("Undo", handle_undo)
    dispatcher.register("Create", handle_create)
    dispatcher.register("Update", handle_update)
    dispatcher.register("Delete", handle_delete)
    dispatcher.register("Announce", handle_announce)
    dispatcher.register("Like", handle_like)
