"""Calls to action as iCalendar (RFC 5545): what goes into a calendar of one call or many; the
icalendar package writes it (escaping, folding, parameter quoting)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fedihub.i18n.active import gettext
from fedihub.protocol.html import html_to_text
from fedihub.protocol.timezones import UTC_NAMES, known_zone
from fedihub.protocol.urls import http_url
from fedihub.storage.models import StoredObject

if TYPE_CHECKING:
    import icalendar


def _ical() -> ModuleType:
    # icalendar costs about 7 MB resident: loaded by the first calendar asked for, not at every start.
    import icalendar

    return icalendar

CONTENT_TYPE = "text/calendar; charset=utf-8"
STATUSES = {"CONFIRMED", "TENTATIVE", "CANCELLED"}
# Local times (TZID) are written for these years only, the range calls.py accepts from organizers;
# a remote call outside it is written in UTC, so a VTIMEZONE never has to cover centuries.
ZONE_YEARS = range(1970, 2101)
MAX_SEQUENCE = 2**31 - 1  # SEQUENCE is an INTEGER (§3.3.8)

# Every control character but TAB and LF (line breaks are turned into LF first), C1 included; RFC 5545
# §3.3.11 forbids them in TEXT, and icalendar escapes only LF, so remote text is cleaned before it is
# handed over.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# CR, CR LF and the Unicode line breaks NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR
# (U+2029): readers that split lines on them (Python's splitlines, some calendar apps) would see a value
# end there and the rest of it as a property of its own, so each becomes an escaped line break.
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
# Block-level ends become line breaks so a description keeps its paragraphs as plain text.
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)


def clean_text(value: str) -> str:
    """Text as it may go into a TEXT value or a parameter: line breaks as LF, no control characters."""
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", value))


def _text(value: str) -> icalendar.vText:
    """A TEXT value (§3.3.11), escaped by icalendar so that no value can start a new line.

    Explicit because icalendar (7.3) writes the properties it has no type for, NAME and X-WR-* among
    them, verbatim: a comma would go unescaped and a line break would fail an assertion.
    """
    return _ical().vText(clean_text(value))


def _utc(moment: datetime) -> datetime:
    """A DATE-TIME in UTC form (§3.3.5, form #2): calendar apps show it in the reader's own zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- Time zones (§3.6.5) ------------------------------------------------------------------------------


def zone_of(row: StoredObject) -> str | None:
    """The IANA zone the call's times are written in, or None for UTC times.

    UTC when the call has no zone we know (a peer may send anything) or a time outside ZONE_YEARS.
    """
    name = known_zone(row.timezone)
    if name is None or name in UTC_NAMES:
        return None
    moments = [m for m in (row.start_time, row.end_time) if m is not None]
    if not all(m.year in ZONE_YEARS and m.astimezone(ZoneInfo(name)).year in ZONE_YEARS for m in moments):
        return None
    # The second pass through a repeated hour (autumn) has no local-time spelling (§3.3.5 takes the
    # first): such a call is written in UTC rather than an hour early.
    if any(_local(m, name) is None for m in moments):
        return None
    return name


def _local(moment: datetime, zone_name: str) -> datetime | None:
    """``moment`` as a local time of the zone, or None when that local time names another moment."""
    local = moment.astimezone(ZoneInfo(zone_name))
    if local.replace(fold=0).astimezone(UTC) != moment.astimezone(UTC):
        return None
    return local.replace(fold=0)


def _written_time(moment: datetime, zone_name: str | None) -> datetime:
    local = _local(moment, zone_name) if zone_name is not None else None
    return local if local is not None else _utc(moment)


# icalendar's own Timezone.from_tzinfo (7.3) searches for offset changes in steps of 64 days, so it
# misses an offset that lasts less than that and returns (Africa/Casablanca leaves +01 for the month
# of Ramadan), and without a change in sight it walks to year 9999. The onsets are therefore found
# here, for the years a calendar uses, and icalendar writes the observances.
@functools.lru_cache(maxsize=4096)
def _year_transitions(zone_name: str, year: int) -> tuple[int, ...]:
    """The UTC seconds in the local ``year`` at which the zone's offset changes (found by stepping a
    day at a time and bisecting: zoneinfo does not expose its transitions)."""
    zone = ZoneInfo(zone_name)
    start = int(datetime(year, 1, 1, tzinfo=zone).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=zone).timestamp())

    def offset(second: int) -> timedelta | None:
        return datetime.fromtimestamp(second, zone).utcoffset()

    found: list[int] = []
    low, current = start, offset(start)
    while low < end:
        high = min(low + 86_400, end)
        if offset(high) != current:
            lo, hi = low, high  # offset(lo) == current != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            found.append(hi)
            current, high = offset(hi), hi
        low = high
    return tuple(found)


def _observance(zone: ZoneInfo, onset: int, before: timedelta | None) -> icalendar.Component:
    """One STANDARD or DAYLIGHT block starting at the UTC second ``onset``."""
    after = datetime.fromtimestamp(onset, zone)
    before = after.utcoffset() if before is None else before
    part = _ical().TimezoneDaylight() if after.dst() else _ical().TimezoneStandard()
    # DTSTART is the local time of the onset as read in the offset in force before it (§3.6.5).
    part.DTSTART = datetime.fromtimestamp(onset, UTC).replace(tzinfo=None) + (before or timedelta())
    part.TZOFFSETFROM = before or timedelta()
    part.TZOFFSETTO = after.utcoffset() or timedelta()
    if after.tzname():
        part.add("TZNAME", _text(after.tzname() or ""))
    return part


def build_timezone(zone_name: str, years: Iterable[int]) -> icalendar.Timezone:
    """A VTIMEZONE covering every local time of ``years``: the offset in force on 1 January of each
    run of consecutive years, then every change within them. Observances carry explicit onsets, no
    RRULE, so readers need not know the zone's rules."""
    zone = ZoneInfo(zone_name)
    chosen = sorted(set(years))
    vtimezone = _ical().Timezone()
    vtimezone.add("TZID", _text(zone_name))
    for year in chosen:
        if year - 1 not in chosen:
            vtimezone.add_component(_observance(zone, int(datetime(year, 1, 1, tzinfo=zone).timestamp()), None))
        for second in _year_transitions(zone_name, year):
            vtimezone.add_component(_observance(zone, second, datetime.fromtimestamp(second - 1, zone).utcoffset()))
    return vtimezone


def sequence_of(row: StoredObject) -> int:
    """SEQUENCE (§3.8.7.4): seconds from publication to the last update, so it grows with every edit
    (local and remote alike; no revision counter is stored)."""
    if row.updated is None or row.published is None or row.updated <= row.published:
        return 0
    return min(int((row.updated - row.published).total_seconds()), MAX_SEQUENCE)


# --- Events -------------------------------------------------------------------------------------------


def description_text(row: StoredObject) -> str:
    """The call's description as plain text, then who organises it and where to read more."""
    body = html_to_text(_BLOCK_END.sub("\n", row.content or ""))
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    author = row.author
    organiser = (author.name or author.username or "") if author is not None else ""
    lines = [body] if body else []
    if organiser:
        lines.append(gettext("Organised by %(name)s", name=organiser))
    url = http_url(row.url) or http_url(row.uri)
    if url:
        lines.append(url)
    return "\n\n".join(lines)


def location_text(row: StoredObject) -> str | None:
    parts = [p.strip() for p in (row.location_name, row.location_address) if p and p.strip()]
    # The address often repeats the place name (Gancio sends both); say it once.
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]
    text = ", ".join(parts)
    return text or http_url(row.online_url)


def status_of(row: StoredObject) -> str:
    status = (row.event_status or "CONFIRMED").strip().upper()
    return status if status in STATUSES else "CONFIRMED"


def _organizer(row: StoredObject) -> icalendar.vCalAddress | None:
    author = row.author
    address = (http_url(author.url) or http_url(author.uri)) if author is not None else None
    if address is None:
        return None
    organizer = _ical().vCalAddress(address)
    name = clean_text(author.name or author.username or "").strip()
    if name:
        organizer.params["CN"] = name  # quoted and RFC 6868-escaped by icalendar
    return organizer


def build_event(row: StoredObject, zone: str | None) -> icalendar.Event:
    if row.start_time is None:
        raise ValueError(f"{row.uri} has no start time and cannot go into a calendar")
    status = status_of(row)
    title = (row.name or "").strip() or gettext("Call to action")
    if status == "CANCELLED":
        # Many calendar apps ignore STATUS on import; the title tells the reader anyway.
        title = gettext("Cancelled: %(title)s", title=title)
    event = _ical().Event()
    # The object id is global and never changes, so re-importing updates the same entry.
    event.add("UID", _text(row.uri))
    event.add("DTSTAMP", _utc(row.updated or row.published or row.created_at or row.start_time))
    event.add("DTSTART", _written_time(row.start_time, zone))
    if row.end_time is not None and row.end_time > row.start_time:
        event.add("DTEND", _written_time(row.end_time, zone))
    if row.published is not None:
        event.add("CREATED", _utc(row.published))
    if row.updated is not None:
        event.add("LAST-MODIFIED", _utc(row.updated))
    event.add("SEQUENCE", sequence_of(row))
    event.add("SUMMARY", _text(title))
    description = description_text(row)
    if description:
        event.add("DESCRIPTION", _text(description))
    location = location_text(row)
    if location:
        event.add("LOCATION", _text(location))
    if row.latitude is not None and row.longitude is not None:
        event.add("GEO", (row.latitude, row.longitude))
    url = http_url(row.url) or http_url(row.uri)
    if url:
        event.add("URL", url)
    organizer = _organizer(row)
    if organizer is not None:
        event.add("ORGANIZER", organizer)
    movements = [clean_text(m.strip()) for m in (row.movements or []) if isinstance(m, str) and m.strip()]
    if movements:
        event.add("CATEGORIES", movements)
    event.add("STATUS", _text(status))
    return event


def _zone_years(events: Sequence[tuple[StoredObject, str | None]]) -> dict[str, set[int]]:
    used: dict[str, set[int]] = {}
    for row, zone in events:
        if zone is None:
            continue
        for moment in (row.start_time, row.end_time):
            if moment is not None:
                used.setdefault(zone, set()).add(moment.astimezone(ZoneInfo(zone)).year)
    return used


def build_calendar(
    rows: Iterable[StoredObject], *, product: str, name: str | None = None, description: str | None = None,
    refresh: timedelta | None = None,
) -> str:
    """A VCALENDAR: a VTIMEZONE for every zone the calls use, then one VEVENT per call, every line
    folded and CRLF-terminated. ``refresh`` tells subscribed calendar apps how often to re-read it."""
    events = [(row, zone_of(row)) for row in rows if row.start_time is not None]
    calendar = _ical().Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", _text(product))
    calendar.add("CALSCALE", "GREGORIAN")
    # RFC 7986 names, each followed by the older X-WR-* one that Outlook and Google read.
    if name:
        calendar.add("NAME", _text(name))
        calendar.add("X-WR-CALNAME", _text(name))
    if description:
        calendar.add("DESCRIPTION", _text(description))
        calendar.add("X-WR-CALDESC", _text(description))
    if refresh is not None:
        minutes = max(1, int(refresh.total_seconds() // 60))
        # RFC 7986 §5.7 requires VALUE=DURATION, which icalendar (7.3) leaves out unless told.
        calendar.add("REFRESH-INTERVAL", timedelta(minutes=minutes), parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", _text(f"PT{minutes}M"))
    for zone_name, years in sorted(_zone_years(events).items()):
        calendar.add_component(build_timezone(zone_name, years))
    for row, zone in events:
        calendar.add_component(build_event(row, zone))
    return calendar.to_ical().decode("utf-8")


def filename_for(row: StoredObject) -> str:
    """A tidy download name from the title: ASCII letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", (row.name or "").lower()).strip("-")[:60].strip("-")
    return f"{slug or 'call-to-action'}.ics"


def product_id(version: str) -> str:
    return f"-//fedihub//fedihub {version}//EN"
