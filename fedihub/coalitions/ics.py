"""Calls to action as iCalendar (RFC 5545) files: escaped, folded and safe against injected lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from fedihub.protocol.html import html_to_text
from fedihub.storage.models import StoredObject

CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_LINE_OCTETS = 75  # RFC 5545 §3.1, not counting the CRLF
STATUSES = {"CONFIRMED", "TENTATIVE", "CANCELLED"}

# Every control character but TAB and LF (CR is turned into LF first); RFC 5545 §3.3.11 forbids them in TEXT.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Block-level ends become line breaks so a description keeps its paragraphs as plain text.
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)


def escape_text(value: str) -> str:
    r"""A TEXT value (§3.3.11): ``\``, ``;``, ``,`` and newlines escaped, so no value can start a new line."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


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


def _event_lines(row: StoredObject) -> list[str]:
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
        f"DTSTART:{format_utc(row.start_time)}",
    ]
    if row.end_time is not None and row.end_time > row.start_time:
        lines.append(f"DTEND:{format_utc(row.end_time)}")
    if row.published is not None:
        lines.append(f"CREATED:{format_utc(row.published)}")
    if row.updated is not None:
        lines.append(f"LAST-MODIFIED:{format_utc(row.updated)}")
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
    movements = [m for m in (row.movements or []) if isinstance(m, str) and m.strip()]
    if movements:
        lines.append("CATEGORIES:" + ",".join(escape_text(m.strip()) for m in movements))
    lines.append(f"STATUS:{status}")
    lines.append("END:VEVENT")
    return lines


def build_calendar(rows: Iterable[StoredObject], *, product: str, name: str | None = None) -> str:
    """A VCALENDAR holding one VEVENT per call, every line folded and CRLF-terminated."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(product)}",
        "CALSCALE:GREGORIAN",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for row in rows:
        lines.extend(_event_lines(row))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) for line in lines)


def filename_for(row: StoredObject) -> str:
    """A tidy download name from the title: ASCII letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", (row.name or "").lower()).strip("-")[:60].strip("-")
    return f"{slug or 'call-to-action'}.ics"


def product_id(version: str) -> str:
    return f"-//fedihub//fedihub {version}//EN"

