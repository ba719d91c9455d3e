"""Calls to action: validated input, the Event that federates them, edits, cancellation and listings."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions import event_text
from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.audience import call_audience_inboxes
from fedihub.coalitions.banners import BannerChoice, apply_banner, media_type_of_url
from fedihub.coalitions.link_messages import link_problem
from fedihub.coalitions.markdown import render_markdown
from fedihub.coalitions.movements import normalise_movements
from fedihub.coalitions.replies import replies_collection
from fedihub.errors import Conflict, FieldErrors, InvalidInput, NotFound
from fedihub.federation.actors import get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import follower_inboxes, publish
from fedihub.i18n.active import N_, gettext
from fedihub.moderation.visibility import shown_objects
from fedihub.protocol import builders
from fedihub.protocol.languages import language_tag
from fedihub.protocol.limits import MAX_REGION
from fedihub.protocol.movements import hashtag_of
from fedihub.protocol.timezones import known_zone
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Actor, StoredObject
from fedihub.subscriptions.triggers import call_changed

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_PLACE = 200
MAX_ADDRESS = 500
MAX_REASON = 2_000
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100

FormFields = Mapping[str, "str | list[str]"]


@dataclass
class CallInput:
    """A call to action as an organizer describes it; times are aware, `timezone` is IANA."""

    title: str
    description: str
    start: datetime
    end: datetime | None
    timezone: str
    place_name: str | None = None
    address: str | None = None
    online_url: str | None = None
    movements: list[str] = field(default_factory=list)
    region_city: str | None = None
    region_state: str | None = None
    region_country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    language: str | None = None  # the language its title and description are written in


# --- Validation ------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _optional(value: str | None, name: str, limit: int, too_long: str) -> str | None:
    """``too_long`` is an N_-marked sentence with ``%(limit)s``; limits are never 1, so no plural."""
    text = _text(value)
    if len(text) > limit:
        raise InvalidInput(gettext(too_long, limit=limit), field=name)
    return text or None


def _title(value: str | None) -> str:
    # Plain text on one line (FEP-8a8e: `name` is plain text, never empty); markup is kept as
    # typed and escaped wherever it is shown.
    title = _text(value)
    if not title:
        raise InvalidInput(gettext("give the call a title"), field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(gettext("a title has at most %(limit)s characters", limit=MAX_TITLE), field="title")
    return title


def _description(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            gettext("a description has at most %(limit)s characters", limit=MAX_DESCRIPTION), field="description"
        )
    return text


def _timezone(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput(gettext("choose a time zone"), field="timezone")
    if known_zone(name) is None:
        raise InvalidInput(
            gettext("%(zone)s is not a time zone we know, e.g. Europe/Paris", zone=repr(name)), field="timezone"
        )
    return name


def _online_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    problem = link_problem(
        url, not_web=N_("the online link must be a web address starting with https://"),
        too_long=N_("the online link has at most %(limit)s characters"),
    )
    if problem:
        raise InvalidInput(problem, field="online_url")
    return url


def _coordinates(latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or not -90 <= latitude <= 90:
        raise InvalidInput(
            gettext("latitude is a number from -90 to 90 (give it with the longitude)"), field="latitude"
        )
    if longitude is None or not -180 <= longitude <= 180:
        raise InvalidInput(
            gettext("longitude is a number from -180 to 180 (give it with the latitude)"), field="longitude"
        )
    return latitude, longitude


def _check_time(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise InvalidInput(gettext("times must carry their time zone"), field=name)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidInput(
            gettext("choose a date between %(first)s and %(last)s", first=EARLIEST_YEAR, last=LATEST_YEAR), field=name
        )


def _end(start: datetime, end: datetime | None) -> None:
    if end is not None:
        _check_time(end, "end")
        if end <= start:
            raise InvalidInput(gettext("the end must be after the start"), field="end")


def validate_call(data: CallInput) -> CallInput:
    """The same rules for every way in (form, CLI, code): a normalised copy, or InvalidForm naming
    every bad field."""
    errors = FieldErrors()
    title = errors.check(_title, data.title)
    description = errors.check(_description, data.description)
    tz = errors.check(_timezone, data.timezone)
    errors.check(_check_time, data.start, "start")
    errors.check(_end, data.start, data.end)
    place_name = errors.check(
        _optional, data.place_name, "place_name", MAX_PLACE, N_("the place name has at most %(limit)s characters")
    )
    address = errors.check(
        _optional, data.address, "address", MAX_ADDRESS, N_("the address has at most %(limit)s characters")
    )
    online_url = errors.check(_online_url, data.online_url)
    if not (place_name or address or online_url or {"place_name", "address", "online_url"} & errors.errors.keys()):
        errors.add("place_name", gettext("give a place, an online link, or both"))
    # Stored in a hashtag's shape, so this server's hubs, feeds and directory match a call's
    # movements as every follower's server matches the hashtags it receives.
    movements = errors.check(normalise_movements, data.movements, field="movements", suggest=False)
    region_city = errors.check(
        _optional, data.region_city, "region_city", MAX_REGION, N_("the city has at most %(limit)s characters")
    )
    region_state = errors.check(
        _optional, data.region_state, "region_state", MAX_REGION,
        N_("the state or province has at most %(limit)s characters"),
    )
    region_country = errors.check(
        _optional, data.region_country, "region_country", MAX_REGION, N_("the country has at most %(limit)s characters")
    )
    coordinates = errors.check(_coordinates, data.latitude, data.longitude)
    language = language_tag(data.language) if data.language else None
    if data.language and language is None:
        errors.add("language", gettext("choose the language the call is written in from the list"))
    errors.raise_if_any()
    assert title is not None and description is not None and tz is not None and coordinates is not None
    return dataclasses.replace(
        data, language=language, title=title, description=description, timezone=tz, place_name=place_name,
        address=address, online_url=online_url, movements=movements or [], latitude=coordinates[0],
        longitude=coordinates[1],
        region_city=region_city, region_state=region_state, region_country=region_country,
    )


# --- Forms -----------------------------------------------------------------------------------------


def _one(fields: FormFields, name: str) -> str:
    value = fields.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _many(fields: FormFields, name: str) -> list[str]:
    getlist = getattr(fields, "getlist", None)  # Starlette's FormData: .get gives one value only
    value = getlist(name) if callable(getlist) else fields.get(name)
    if value is None:
        return []
    return [item for item in (value if isinstance(value, list) else [value]) if item]


_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def parse_local_datetime(value: str, tz: str, name: str) -> datetime:
    """"2026-03-14T11:00" as a wall-clock time in `tz` (an ISO time with an offset is converted)."""
    text = value.strip()
    if not _DATE_AND_TIME.match(text):
        raise InvalidInput(gettext("give a date and a time, like 2026-03-14T11:00"), field=name)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            gettext("that date or time does not exist; use the form 2026-03-14T11:00"), field=name
        ) from exc
    zone = ZoneInfo(tz)
    if parsed.tzinfo is not None:
        return parsed.astimezone(zone)
    local = parsed.replace(tzinfo=zone)
    # A wall time skipped when the clocks go forward has no instant: say so rather than guess.
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
        raise InvalidInput(
            gettext("%(time)s does not exist in %(zone)s: the clocks change then", time=text, zone=tz), field=name
        )
    return local


_NOT_A_NUMBER = {
    "latitude": N_("latitude must be a number, like 48.8566"),
    "longitude": N_("longitude must be a number, like 48.8566"),
}


def _number(fields: FormFields, name: str) -> float | None:
    text = _one(fields, name).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as typed in much of the world
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidInput(gettext(_NOT_A_NUMBER[name]), field=name)
    return number


def _start(fields: FormFields, tz: str) -> datetime:
    if not _one(fields, "start").strip():
        raise InvalidInput(gettext("give the date and time it starts"), field="start")
    return parse_local_datetime(_one(fields, "start"), tz, "start")


def parse_call_form(fields: FormFields) -> CallInput:
    """A CallInput from HTML form values; InvalidForm names every bad field at once."""
    errors = FieldErrors()
    tz = errors.check(_timezone, _one(fields, "timezone"))
    start = errors.check(_start, fields, tz or "UTC")
    end_text = _one(fields, "end").strip()
    end = errors.check(parse_local_datetime, end_text, tz or "UTC", "end") if end_text else None
    latitude = errors.check(_number, fields, "latitude")
    longitude = errors.check(_number, fields, "longitude")
    # Checkboxes send one movement each, the free "tags" field a comma-separated list; both may
    # also come comma-separated from to_form_fields.
    movements = [item for name in ("movements", "tags") for value in _many(fields, name) for item in value.split(",")]
    data = CallInput(
        title=_one(fields, "title"),
        description=_one(fields, "description"),
        # A start that could not be read (already reported) stands in as any valid time, only so that
        # every other field is still checked.
        start=start or datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC),
        end=end if start else None,
        timezone=tz or "UTC",
        place_name=_one(fields, "place_name"),
        address=_one(fields, "address"),
        online_url=_one(fields, "online_url"),
        movements=movements,
        region_city=_one(fields, "region_city"),
        region_state=_one(fields, "region_state"),
        region_country=_one(fields, "region_country"),
        latitude=latitude,
        longitude=longitude,
        language=_one(fields, "language").strip() or None,
    )
    checked = errors.check(validate_call, data)
    errors.raise_if_any()
    assert checked is not None
    return checked


def to_form_fields(call: StoredObject) -> dict[str, str]:
    """The edit form's values for a stored call (times as local wall-clock times in its zone).

    `movements` and `tags` both hold the movements, comma-separated; the form may show them as
    checkboxes, free text or both (parse_call_form merges and de-duplicates).
    """
    tz = call.timezone or "UTC"
    zone = ZoneInfo(tz)

    def local(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value is not None else ""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    movements = ", ".join(call.movements or [])
    return {
        "title": call.name or "",
        "description": call.source or "",
        "start": local(call.start_time),
        "end": local(call.end_time),
        "timezone": tz,
        "place_name": text(call.location_name),
        "address": text(call.location_address),
        "online_url": text(call.online_url),
        "movements": movements,
        "tags": movements,
        "region_city": text(call.region_city),
        "region_state": text(call.region_state),
        "region_country": text(call.region_country),
        "latitude": text(call.latitude),
        "longitude": text(call.longitude),
        "language": text(call.language),
    }


# --- Publishing ------------------------------------------------------------------------------------


def _fill(row: StoredObject, data: CallInput, actor: Actor) -> None:
    row.name = data.title
    row.source = data.description
    row.content = render_markdown(data.description) if data.description else ""
    row.start_time = data.start.astimezone(UTC)
    row.end_time = data.end.astimezone(UTC) if data.end is not None else None
    row.timezone = data.timezone
    row.location_name = data.place_name
    row.location_address = data.address
    row.online_url = data.online_url
    row.movements = list(data.movements)
    region = (data.region_city, data.region_state, data.region_country)
    if not any(region):
        # A call with no region of its own happens where its coalition is.
        profile = profile_of(actor)
        region = (profile.region_city, profile.region_state, profile.region_country)
    row.region_city, row.region_state, row.region_country = region
    row.latitude, row.longitude = data.latitude, data.longitude
    row.language = data.language


def call_facts(row: StoredObject) -> event_text.CallFacts:
    """The facts of a stored call, as the summary and the change notes describe them."""
    assert row.start_time is not None
    return event_text.CallFacts(
        title=row.name or "",
        start=row.start_time,
        end=row.end_time,
        timezone=row.timezone or "UTC",
        place_name=row.location_name,
        address=row.location_address,
        region=(row.region_city, row.region_state, row.region_country),
        online_url=row.online_url,
    )


def _event_document(
    ctx: FederationContext, row: StoredObject, actor: Actor, reason: str | None = None,
    super_event: str | None = None,
) -> dict:
    """The Event for a stored call, from its columns (the one source of truth); sets its summary,
    written in the call's language whoever publishes it."""
    assert row.start_time is not None and row.published is not None
    facts = call_facts(row)
    with event_text.written_in(ctx.catalogues, row.language) as summary_language:
        row.summary = event_text.build_event_summary(
            facts,
            cancelled=row.event_status == "CANCELLED",
            cancel_reason=reason,
            pitch=event_text.build_pitch(row.source),
        )
    place = None
    if row.location_name or row.location_address:
        place = builders.EventPlace(
            name=row.location_name or row.location_address or "",
            street_address=row.location_address,
            locality=row.region_city,
            region=row.region_state,
            country=row.region_country,
            latitude=row.latitude,
            longitude=row.longitude,
        )
    return builders.build_event(
        object_id=row.uri,
        attributed_to=actor.uri,
        name=row.name or "",
        content_html=row.content or "",
        summary_html=row.summary,
        start=row.start_time,
        end=row.end_time,
        timezone=row.timezone or "UTC",
        published=row.published,
        updated=row.updated,
        to=[PUBLIC],
        cc=[_followers(actor)],
        url=row.url or row.uri,
        place=place,
        online_url=row.online_url,
        status=row.event_status or "CONFIRMED",
        hashtags=[tag for tag in map(hashtag_of, row.movements or []) if tag],
        pledges=pledges_collection(row.uri),
        # Kept from the published document: the pledge count is maintained by fedihub.pledges, and a
        # local action's link to its call is fixed when it is created.
        participant_count=int((row.data or {}).get("participantCount") or 0),
        super_event=(row.data or {}).get("superEvent") or super_event,
        replies=replies_collection(row.uri),
        image_url=row.image_url,
        image_alt=row.image_alt or "",
        image_media_type=media_type_of_url(row.image_url or ""),
        language=row.language,
        # A call in a language we have no catalogue for (German) gets its summary in English: say so.
        summary_language=summary_language,
    )


def pledges_collection(call_uri: str) -> str:
    return f"{call_uri}/pledges"


def _followers(actor: Actor) -> str:
    return actor.followers_uri or f"{actor.uri}/followers"


async def get_call(session: AsyncSession, object_uri: str) -> StoredObject:
    """One of this server's calls (not deleted), or NotFound."""
    row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_uri))
    if row is None or not row.is_local or row.type != "Event" or row.deleted_at is not None:
        raise NotFound(gettext("no call to action %(uri)s on this server", uri=object_uri))
    return row


async def _publish_reply(
    ctx: FederationContext, session: AsyncSession, actor: Actor, event: StoredObject, html: str,
    inboxes: set[str], language: str | None,
) -> StoredObject:
    """A public Note replying to the Event: Mastodon threads it under the call (spec §1.8)."""
    now = ctx.clock()
    note_id = ctx.urls.new_object()
    note = builders.build_note(
        object_id=note_id, attributed_to=actor.uri, content_html=html, published=now, to=[PUBLIC],
        cc=[_followers(actor)], url=note_id, in_reply_to=event.uri, language=language,
    )
    row = StoredObject(
        uri=note_id, type="Note", attributed_to_id=actor.id, is_local=True, visibility="public", content=html,
        url=note_id, in_reply_to=event.uri, published=now, data=note, created_at=now,
    )
    session.add(row)
    create = builders.build_create(activity_id=f"{note_id}/activity", actor=actor.uri, obj=note)
    await publish(ctx, session, actor=actor, activity=create, inboxes=inboxes)
    return row


async def _publish_update(
    ctx: FederationContext, session: AsyncSession, row: StoredObject, actor: Actor, reason: str | None = None
) -> set[str]:
    row.updated = ctx.clock()
    row.data = _event_document(ctx, row, actor, reason)
    update = builders.build_update(
        activity_id=ctx.urls.new_activity(), actor=actor.uri, obj=row.data, to=[PUBLIC], cc=[_followers(actor)],
        published=row.updated,
    )
    inboxes = await call_audience_inboxes(session, row.uri, actor.id)
    await publish(ctx, session, actor=actor, activity=update, inboxes=inboxes)
    return inboxes


async def publish_call(
    ctx: FederationContext, session: AsyncSession, username: str, data: CallInput, *,
    super_event: str | None = None, extra_inboxes: set[str] | None = None, image: BannerChoice | None = None,
) -> StoredObject:
    """Publish a call to action: an Event in a Create to the coalition's followers; the caller commits.

    A coalition's local action for another call names that call as its ``super_event`` and is also
    sent to ``extra_inboxes`` (the call's author).
    """
    data = validate_call(data)
    actor = await get_local_actor(session, username)
    now = ctx.clock()
    object_id = ctx.urls.new_object()
    row = StoredObject(
        uri=object_id, type="Event", attributed_to_id=actor.id, is_local=True, visibility="public",
        url=object_id, published=now, created_at=now, event_status="CONFIRMED",
    )
    _fill(row, data, actor)
    if image is not None:
        await apply_banner(ctx, session, row, image)
    row.data = _event_document(ctx, row, actor, super_event=super_event)
    session.add(row)
    create = builders.build_create(activity_id=f"{object_id}/activity", actor=actor.uri, obj=row.data)
    inboxes = await follower_inboxes(session, actor.id) | (extra_inboxes or set())
    await publish(ctx, session, actor=actor, activity=create, inboxes=inboxes)
    await call_changed(session, row.uri, now=now)
    return row


async def update_call(
    ctx: FederationContext, session: AsyncSession, object_uri: str, data: CallInput, *,
    image: BannerChoice | None = None,
) -> StoredObject:
    """Edit a call: Update(Event), plus a reply Note when the title, time, place or link changed.

    Mastodon ignores Updates of an Event (spec §1.8); the Note is what its users see. A change
    of the description alone sends only the Update: Mastodon never showed the description.
    """
    data = validate_call(data)
    row = await get_call(session, object_uri)
    actor = row.author
    before = call_facts(row)
    _fill(row, data, actor)
    if image is not None:
        await apply_banner(ctx, session, row, image)
    inboxes = await _publish_update(ctx, session, row, actor)
    with event_text.written_in(ctx.catalogues, row.language) as note_language:
        changes = event_text.describe_changes(before, call_facts(row))
        html = event_text.build_change_note(row.url or row.uri, call_facts(row), changes) if changes else ""
    if changes:
        await _publish_reply(ctx, session, actor, row, html, inboxes, note_language)
        await call_changed(session, row.uri, now=ctx.clock())
    return row


async def cancel_call(
    ctx: FederationContext, session: AsyncSession, object_uri: str, reason: str | None = None
) -> StoredObject:
    """Cancel a call: it stays visible, marked CANCELLED, with an Update and a reply Note."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(gettext("a reason has at most %(limit)s characters", limit=MAX_REASON), field="reason")
    row = await get_call(session, object_uri)
    if row.event_status == "CANCELLED":
        raise Conflict(gettext("this call is already cancelled"))
    actor = row.author
    row.event_status = "CANCELLED"
    inboxes = await _publish_update(ctx, session, row, actor, reason)
    with event_text.written_in(ctx.catalogues, row.language) as note_language:
        html = event_text.build_cancel_note(row.url or row.uri, call_facts(row), reason)
    await _publish_reply(ctx, session, actor, row, html, inboxes, note_language)
    await call_changed(session, row.uri, now=ctx.clock())
    return row


# --- Listings --------------------------------------------------------------------------------------


def _calls(now: datetime, actor_id: int | None, *, upcoming: bool) -> Select[StoredObject]:
    # "Upcoming" includes calls under way (FEP-8a8e upcomingEvents: endTime not yet past); a call
    # without an end counts as over once it has started.
    start, end, open_end = StoredObject.start_time, StoredObject.end_time, StoredObject.end_time.is_(None)
    if upcoming:
        timing = or_(end >= now, and_(open_end, start >= now))
    else:
        timing = or_(end < now, and_(open_end, start < now))
    query = select(StoredObject).where(
        StoredObject.type == "Event", StoredObject.deleted_at.is_(None), StoredObject.start_time.is_not(None), timing
    )
    if actor_id is None:
        # FEP-8a8e "Discoverability": shared calendars list only events with Public in `to`…
        return query.where(StoredObject.visibility == "public")
    # …while an actor's own page may also show its unlisted ones (Public in `cc`).
    return query.where(
        StoredObject.attributed_to_id == actor_id, StoredObject.visibility.in_(("public", "unlisted"))
    )


async def upcoming_calls(
    session: AsyncSession, *, now: datetime, actor_id: int | None = None, limit: int = 50
) -> list[StoredObject]:
    """Calls (ours and remote) not yet over, soonest first; one coalition's when actor_id is given."""
    query = _calls(now, actor_id, upcoming=True).where(await shown_objects(session))
    query = query.order_by(StoredObject.start_time, StoredObject.id).limit(limit)
    return list((await session.scalars(query)).all())


async def past_calls(
    session: AsyncSession, *, now: datetime, actor_id: int | None = None, limit: int = 50
) -> list[StoredObject]:
    """Calls that are over, the most recent first."""
    query = _calls(now, actor_id, upcoming=False).where(await shown_objects(session))
    query = query.order_by(StoredObject.start_time.desc(), StoredObject.id.desc())
    return list((await session.scalars(query.limit(limit))).all())
