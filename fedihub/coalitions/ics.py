"""Calls to action as iCalendar (RFC 5545): one call or a feed of many, with their time zones, escaped,
folded and safe against injected lines."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from fedihub.protocol.html import html_to_text
from fedihub.storage.models import StoredObject

CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_LINE_OCTETS = 75  # RFC 5545 §3.1, not counting the CRLF
STATUSES = {"CONFIRMED", "TENTATIVE", "CANCELLED"}
# Local times (TZID) are written for these years only, the range calls.py accepts from organizers;
# a remote call outside it is written in UTC, so a VTIMEZONE never has to cover centuries.
ZONE_YEARS = range(1970, 2101)
# Names of UTC itself: written as UTC ("Z") times, which need no VTIMEZONE.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
MAX_SEQUENCE = 2**31 - 1  # SEQUENCE is an INTEGER (§3.3.8)

# Every control character but TAB and LF (CR is turned into LF first); RFC 5545 §3.3.11 forbids them in TEXT.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Block-level ends become line breaks so a description keeps its paragraphs as plain text.
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)


def escape_text(value: str) -> str:
    r"""A TEXT value (§3.3.11): ``\``, ``;``, ``,`` and newlines escaped, so no value can start a new line."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def escape_param(value: str) -> str:
    """A quoted parameter value (§3.1, RFC 6868): no DQUOTE, no control character, no line break."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("^", "^^").replace("\n", "^n").replace('"', "^'")
    return '"' + re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "", value) + '"'


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (§3.1) without splitting a UTF-8 character; CRLF-terminated."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_LINE_OCTETS:
        return line + "\r\n"
    parts: list[str] = []
    start = 0
    limit = MAX_LINE_OCTETS
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        # Step back to the start of a UTF-8 character (continuation bytes are 0b10xxxxxx).
        while end < len(encoded) and encoded[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(encoded[start:end].decode("utf-8"))
        start = end
        limit = MAX_LINE_OCTETS - 1  # continuation lines begin with one space
    return "\r\n ".join(parts) + "\r\n"


def format_utc(moment: datetime) -> str:
    """A DATE-TIME in UTC form (§3.3.5, form #2): calendar apps show it in the reader's own zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _safe_uri(value: str | None) -> str | None:
    """An http(s) URI with no whitespace or control characters, or None: URI values are not escaped."""
    if not value or re.search(r"[\s\x00-\x1f\x7f]", value):
        return None
    return value if urlsplit(value).scheme in ("http", "https") else None


# --- Time zones (§3.6.5) ------------------------------------------------------------------------------


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_of(row: StoredObject) -> str | None:
    """The IANA zone the call's times are written in, or None for UTC times.

    UTC when the call has no zone we know (a peer may send anything) or a time outside ZONE_YEARS.
    """
    name = (row.timezone or "").strip()
    if not name or name in UTC_NAMES or name not in _known_zones():
        return None
    moments = [m for m in (row.start_time, row.end_time) if m is not None]
    if not all(m.year in ZONE_YEARS and m.astimezone(ZoneInfo(name)).year in ZONE_YEARS for m in moments):
        return None
    # The second pass through a repeated hour (autumn) has no local-time spelling (§3.3.5 takes the
    # first): such a call is written in UTC rather than an hour early.
    if any(_local(m, name) is None for m in moments):
        return None
    return name


def _local(moment: datetime, zone_name: str) -> str | None:
    zone = ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    if local.replace(fold=0).astimezone(timezone.utc) != moment.astimezone(timezone.utc):
        return None
    return local.strftime("%Y%m%dT%H%M%S")


def _date_time(name: str, moment: datetime, zone_name: str | None) -> str:
    if zone_name is None:
        return f"{name}:{format_utc(moment)}"
    return f"{name};TZID={zone_name}:{_local(moment, zone_name)}"


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"  # "-0000" is not allowed (§3.3.14)
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _observance(zone: ZoneInfo, onset: int, before: timedelta | None) -> list[str]:
    """One STANDARD or DAYLIGHT block starting at the UTC second ``onset``, in the local time then ending."""
    after = datetime.fromtimestamp(onset, zone)
    before = after.utcoffset() if before is None else before
    kind = "DAYLIGHT" if after.dst() else "STANDARD"
    # DTSTART is the local time of the onset as read in the offset in force before it (§3.6.5).
    onset_local = datetime.fromtimestamp(onset, timezone.utc).replace(tzinfo=None) + (before or timedelta())
    lines = [f"BEGIN:{kind}", f"DTSTART:{onset_local:%Y%m%dT%H%M%S}", f"TZOFFSETFROM:{_offset(before)}",
             f"TZOFFSETTO:{_offset(after.utcoffset())}"]
    if after.tzname():
        lines.append(f"TZNAME:{escape_text(after.tzname() or '')}")
    return [*lines, f"END:{kind}"]


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


def timezone_lines(zone_name: str, years: Iterable[int]) -> list[str]:
    """A VTIMEZONE covering every local time of ``years``: the offset in force on 1 January of each
    run of consecutive years, then every change within them. Observances carry explicit onsets, no
    RRULE, so readers need not know the zone's rules."""
    zone = ZoneInfo(zone_name)
    chosen = sorted(set(years))
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone_name}"]
    for year in chosen:
        if year - 1 not in chosen:
            lines += _observance(zone, int(datetime(year, 1, 1, tzinfo=zone).timestamp()), None)
        for second in _year_transitions(zone_name, year):
            lines += _observance(zone, second, datetime.fromtimestamp(second - 1, zone).utcoffset())
    return [*lines, "END:VTIMEZONE"]


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
        lines.append(f"Organised by {organiser}")
    url = _safe_uri(row.url) or _safe_uri(row.uri)
    if url:
        lines.append(url)
    return "\n\n".join(lines)


def location_text(row: StoredObject) -> str | None:
    parts = [p.strip() for p in (row.location_name, row.location_address) if p and p.strip()]
    # The address often repeats the place name (Gancio sends both); say it once.
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]
    text = ", ".join(parts)
    return text or _safe_uri(row.online_url)


def status_of(row: StoredObject) -> str:
    status = (row.event_status or "CONFIRMED").strip().upper()
    return status if status in STATUSES else "CONFIRMED"


def _organizer_line(row: StoredObject) -> str | None:
    author = row.author
    address = (_safe_uri(author.url) or _safe_uri(author.uri)) if author is not None else None
    if address is None:
        return None
    name = (author.name or author.username or "").strip()
    return f"ORGANIZER;CN={escape_param(name)}:{address}" if name else f"ORGANIZER:{address}"


def _event_lines(row: StoredObject, zone: str | None) -> list[str]:
    if row.start_time is None:
        raise ValueError(f"{row.uri} has no start time and cannot go into a calendar")
    status = status_of(row)
    title = (row.name or "").strip() or "Call to action"
    if status == "CANCELLED":
        # Many calendar apps ignore STATUS on import; the title tells the reader anyway.
        title = f"Cancelled: {title}"
    stamp = row.updated or row.published or row.created_at or row.start_time
    lines = [
        "BEGIN:VEVENT",
        # The object id is global and never changes, so re-importing updates the same entry.
        f"UID:{escape_text(row.uri)}",
        f"DTSTAMP:{format_utc(stamp)}",
        _date_time("DTSTART", row.start_time, zone),
    ]
    if row.end_time is not None and row.end_time > row.start_time:
        lines.append(_date_time("DTEND", row.end_time, zone))
    if row.published is not None:
        lines.append(f"CREATED:{format_utc(row.published)}")
    if row.updated is not None:
        lines.append(f"LAST-MODIFIED:{format_utc(row.updated)}")
    lines.append(f"SEQUENCE:{sequence_of(row)}")
    lines.append(f"SUMMARY:{escape_text(title)}")
    description = description_text(row)
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    location = location_text(row)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if row.latitude is not None and row.longitude is not None:
        lines.append(f"GEO:{row.latitude:.6f};{row.longitude:.6f}")
    url = _safe_uri(row.url) or _safe_uri(row.uri)
    if url:
        lines.append(f"URL:{url}")
    organizer = _organizer_line(row)
    if organizer:
        lines.append(organizer)
    movements = [m for m in (row.movements or []) if isinstance(m, str) and m.strip()]
    if movements:
        lines.append("CATEGORIES:" + ",".join(escape_text(m.strip()) for m in movements))
    lines.append(f"STATUS:{status}")
    lines.append("END:VEVENT")
    return lines


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
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(product)}",
        "CALSCALE:GREGORIAN",
    ]
    if name:
        lines += [f"NAME:{escape_text(name)}", f"X-WR-CALNAME:{escape_text(name)}"]
    if description:
        lines += [f"DESCRIPTION:{escape_text(description)}", f"X-WR-CALDESC:{escape_text(description)}"]
    if refresh is not None:
        minutes = max(1, int(refresh.total_seconds() // 60))
        # RFC 7986 §5.7, and the older name Outlook and Google read.
        lines += [f"REFRESH-INTERVAL;VALUE=DURATION:PT{minutes}M", f"X-PUBLISHED-TTL:PT{minutes}M"]
    for zone, years in sorted(_zone_years(events).items()):
        lines.extend(timezone_lines(zone, years))
    for row, zone in events:
        lines.extend(_event_lines(row, zone))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) for line in lines)


def filename_for(row: StoredObject) -> str:
    """A tidy download name from the title: ASCII letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", (row.name or "").lower()).strip("-")[:60].strip("-")
    return f"{slug or 'call-to-action'}.ics"


def product_id(version: str) -> str:
    return f"-//fedihub//fedihub {version}//EN"
