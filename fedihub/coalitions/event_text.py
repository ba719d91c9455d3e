"""The words of a call to action for people: its summary line for Mastodon and its change notes.

They are written in the active language (fedihub/i18n/active.py): a call's federated texts are built
inside ``written_in`` its own language, so a Spanish call tells Mastodon users its changes in Spanish.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fedihub.coalitions.markdown import render_markdown
from fedihub.i18n.active import gettext, using
from fedihub.i18n.catalogues import Catalogues
from fedihub.i18n.dates import clock, long_date
from fedihub.i18n.languages import DEFAULT_LANGUAGE, known_language
from fedihub.places.regions import mentions_region
from fedihub.protocol.html import html_to_text

PITCH_LENGTH = 200


@dataclass(frozen=True)
class CallFacts:
    """What a reader needs to turn up: the same facts the Event carries, as one value."""

    title: str
    start: datetime
    end: datetime | None
    timezone: str
    place_name: str | None = None
    address: str | None = None
    region: Sequence[str | None] = ()
    online_url: str | None = None


def texts_language(call_language: str | None) -> str | None:
    """The language tag of a call's own texts: the call's where we have a catalogue for it ("es-MX"
    is written in Spanish), else English; None for a call that does not say its language."""
    if call_language is None:
        return None
    return call_language if known_language(call_language) else DEFAULT_LANGUAGE


@contextmanager
def written_in(catalogues: Catalogues, call_language: str | None) -> Iterator[str | None]:
    """Build a call's summary and notes inside this block; yields texts_language, for their `…Map`."""
    chosen = known_language(call_language) or DEFAULT_LANGUAGE
    with using(chosen, catalogues.get(chosen)):
        yield texts_language(call_language)


def _abbreviation(value: datetime) -> str:
    """PDT, CET… or, where the zone has no letters for it ("+03"), the offset as UTC+03."""
    name = value.tzname() or ""
    if name.isalpha():
        return name
    return f"UTC{name}" if name else ""


def format_when(start: datetime, end: datetime | None, timezone: str) -> str:
    """"Saturday 14 March 2026, 11:00–14:00 PDT (America/Los_Angeles)" in the event's own zone, the
    day written in the active language ("sábado, 14 de marzo de 2026, 11:00–14:00 CET (Europe/Madrid)").
    The names are CLDR's (Babel), never strftime's: those follow the process locale, and federated text
    must not change with the server's environment.

    Spec §1.8: Mastodon shows only name, summary and link, so the date, the time and the zone's
    name must be written out; the abbreviation alone is ambiguous (CST), the IANA name is not.
    """
    zone = ZoneInfo(timezone)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone) if end is not None else None
    start_abbr = _abbreviation(local_start)
    zone_name = "" if timezone == start_abbr else f" ({timezone})"
    if local_end is None:
        return f"{long_date(local_start)}, {clock(local_start)} {start_abbr}{zone_name}"
    end_abbr = _abbreviation(local_end)
    # Across a DST change the abbreviation differs between start and end: say both.
    first = clock(local_start) + (f" {start_abbr}" if end_abbr != start_abbr else "")
    if local_end.date() == local_start.date():
        text = f"{long_date(local_start)}, {first}–{clock(local_end)} {end_abbr}"
    else:
        text = f"{long_date(local_start)}, {first} – {long_date(local_end)}, {clock(local_end)} {end_abbr}"
    return f"{text.rstrip()}{zone_name}"


def format_place(place_name: str | None, address: str | None, region: Sequence[str | None] = ()) -> str:
    """"City Hall steps, 1 Dr Carlton B Goodlett Pl, San Francisco, CA" without saying a part twice.

    A region part already written in the address (people often type the city there) is left out, under
    any of its names: "…, Chicago, IL 60602" already says Illinois, and "…, Paris, France" says FR.
    """
    name, street = (place_name or "").strip(), (address or "").strip()
    parts = [name] if name else []
    if street and street.casefold() != name.casefold():
        parts.append(street)
    for part in region:
        part = (part or "").strip()
        in_street = mentions_region(street, part) if part and street else False
        if part and not in_street and part.casefold() not in (seen.casefold() for seen in parts):
            parts.append(part)
    return ", ".join(parts)


def _link(url: str) -> str:
    quoted = html.escape(url, quote=True)
    return f'<a href="{quoted}">{quoted}</a>'


def build_pitch(description: str | None) -> str:
    """The first paragraph of the description as plain text, cut at a word near 200 characters."""
    for paragraph in re.split(r"\n\s*\n", (description or "").strip()):
        text = " ".join(html_to_text(render_markdown(paragraph)).split())
        if text:
            if len(text) <= PITCH_LENGTH:
                return text
            return text[:PITCH_LENGTH].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return ""


def _paragraphs(text: str | None) -> list[str]:
    """Plain text as escaped HTML paragraphs (blank lines) with <br> for single line breaks."""
    found = []
    for paragraph in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [html.escape(line.strip()) for line in paragraph.splitlines() if line.strip()]
        if lines:
            found.append("<br>".join(lines))
    return found


def build_event_summary(
    facts: CallFacts, *, cancelled: bool = False, cancel_reason: str | None = None, pitch: str = ""
) -> str:
    """The Event's `summary`: what Mastodon users read in their timelines (spec §1.8, §2.7)."""
    lines = [gettext("When: %(when)s", when=html.escape(format_when(facts.start, facts.end, facts.timezone)))]
    place = format_place(facts.place_name, facts.address, facts.region)
    if place:
        lines.append(gettext("Where: %(place)s", place=html.escape(place)))
    if facts.online_url:
        lines.append(gettext("Online: %(link)s", link=_link(facts.online_url)))
    elif not place:
        lines.append(html.escape(gettext("Where: online")))
    paragraphs = ["<br>".join(lines)]
    if cancelled:
        cancelled_word = html.escape(gettext("CANCELLED"))
        paragraphs[:0] = [f"<strong>{cancelled_word}</strong>", *_paragraphs(cancel_reason)]
    if pitch:
        paragraphs.append(html.escape(pitch))
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def describe_changes(before: CallFacts, after: CallFacts) -> list[str]:
    """HTML lines naming what a reader must know changed: time, place, online link, title.

    The description is left out on purpose: Mastodon does not show an Event's content anyway.
    """
    lines: list[str] = []
    if (before.start, before.end, before.timezone) != (after.start, after.end, after.timezone):
        when = html.escape(format_when(after.start, after.end, after.timezone))
        lines.append(gettext("New time: %(when)s", when=when))
    old_place = format_place(before.place_name, before.address, before.region)
    new_place = format_place(after.place_name, after.address, after.region)
    if old_place != new_place:
        lines.append(
            gettext("New place: %(place)s", place=html.escape(new_place)) if new_place
            else html.escape(gettext("No longer at a physical place."))
        )
    if before.online_url != after.online_url:
        lines.append(
            gettext("New online link: %(link)s", link=_link(after.online_url)) if after.online_url
            else html.escape(gettext("No longer online."))
        )
    if before.title != after.title:
        lines.append(gettext("Renamed from “%(title)s”.", title=html.escape(before.title)))
    return lines


def _call_link(url: str, title: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(title)}</a>'


def build_change_note(url: str, facts: CallFacts, changes: Sequence[str]) -> str:
    """The reply Note sent with an Update: Mastodon ignores Event updates (spec §1.8)."""
    heading = "<p>" + gettext("Changed: %(call)s", call=_call_link(url, facts.title)) + "</p>"
    return heading + "<p>" + "<br>".join(changes) + "</p>"


def build_cancel_note(url: str, facts: CallFacts, reason: str | None) -> str:
    """The reply Note sent with a cancellation, so Mastodon users see it under the call."""
    when = html.escape(format_when(facts.start, facts.end, facts.timezone))
    # The translation keeps the <strong> around its own word for "Cancelled".
    text = "<p>" + gettext(
        "<strong>Cancelled:</strong> %(call)s, planned for %(when)s.", call=_call_link(url, facts.title), when=when
    ) + "</p>"
    return text + "".join(f"<p>{paragraph}</p>" for paragraph in _paragraphs(reason))
