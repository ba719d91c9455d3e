"""What the pages show, worked out once: times in the event's zone, places, links, handles, zone lists."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from fedihub.coalitions import Actor, StoredObject
from fedihub.hubs.scope_names import scope_name
from fedihub.i18n import dates
from fedihub.i18n.active import N_, gettext
from fedihub.i18n.languages import LANGUAGES, NATIVE_NAMES
from fedihub.protocol.html import html_to_text, sanitize_html
from fedihub.protocol.timezones import UTC_NAMES, known_zones, zone_or_utc
from fedihub.protocol.urls import http_url
from fedihub.protocol.webfinger import format_handle

OSM = "https://www.openstreetmap.org"


def remote_call_path(uri: str) -> str:
    """Where this instance shows the call with this id, ours or remote (web/remote_calls.py)."""
    return f"/calls/view?{urlencode({'url': uri})}"


def zone_label(name: str | None, moment: datetime) -> str:
    """ "Los Angeles time (PDT)", or "UTC": a place people recognise and the abbreviation they see."""
    zone = zone_or_utc(name)
    if zone is UTC or name in UTC_NAMES:
        return "UTC"
    abbreviation = moment.astimezone(zone).tzname() or ""
    if abbreviation[:1] in "+-":
        abbreviation = f"UTC{abbreviation}"
    city = name.rsplit("/", 1)[-1].replace("_", " ") if name else ""
    if abbreviation:
        return gettext("%(city)s time (%(abbreviation)s)", city=city, abbreviation=abbreviation)
    return gettext("%(city)s time", city=city)


def hub_scope_name(scope: str | None) -> str:
    """ "National hub" in the reader's language (`{{ scope | hub_scope_name }}`)."""
    return scope_name(scope)


def long_date(moment: datetime) -> str:
    """ "Saturday 14 March 2026" in the reader's language."""
    return dates.long_date(moment)


def clock(moment: datetime) -> str:
    return dates.clock(moment)


@dataclass(frozen=True)
class When:
    date: str  # "Saturday 14 March 2026"
    hours: str  # "11:00 – 14:00", or "11:00 until Sunday 15 March, 18:00"
    zone: str  # "Los Angeles time (PDT)"
    start_iso: str
    end_iso: str | None
    zone_name: str
    month: str  # badge: "Mar"
    day: str  # badge: "14"

    @property
    def text(self) -> str:
        return f"{self.date}, {self.hours} {self.zone}"


def when_of(start: datetime, end: datetime | None, zone_name: str | None) -> When:
    zone = zone_or_utc(zone_name)
    local_start = start.astimezone(zone)
    hours = clock(local_start)
    if end is not None and end > start:
        local_end = end.astimezone(zone)
        if local_end.date() == local_start.date():
            hours = f"{hours} – {clock(local_end)}"
        else:
            hours = gettext("%(start)s until %(day)s, %(end)s", start=hours, day=dates.day_and_month(local_end),
                            end=clock(local_end))
    return When(
        date=long_date(local_start), hours=hours, zone=zone_label(zone_name, start),
        start_iso=start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        end_iso=end.astimezone(UTC).isoformat().replace("+00:00", "Z") if end and end > start else None,
        zone_name=zone_name or "UTC", month=dates.month_badge(local_start), day=str(local_start.day),
    )


def call_languages(current: Any) -> list[tuple[str, str]]:
    """The call form's language choices, each named in itself; a stored other language stays listed."""
    options = [(code, NATIVE_NAMES[code]) for code in LANGUAGES]
    if isinstance(current, str) and current and current not in LANGUAGES:
        options.append((current, current))
    return options


def map_url(latitude: float | None, longitude: float | None, query: str | None) -> str | None:
    """OpenStreetMap at the coordinates when we have them, else a search for the address."""
    if latitude is not None and longitude is not None and -90 <= latitude <= 90 and -180 <= longitude <= 180:
        lat, lon = f"{latitude:.5f}", f"{longitude:.5f}"
        return f"{OSM}/?{urlencode({'mlat': lat, 'mlon': lon})}#map=17/{lat}/{lon}"
    if query and query.strip():
        return f"{OSM}/search?{urlencode({'query': query.strip()})}"
    return None


def region_text(city: str | None, state: str | None, country: str | None) -> str:
    return ", ".join(p.strip() for p in (city, state, country) if p and p.strip())


def excerpt(html: str | None, limit: int = 200) -> str:
    text = " ".join(html_to_text(html).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class ActorView:
    name: str
    handle: str  # "@tenants@a.example"
    url: str | None
    is_local: bool
    avatar: str | None


class Named(Protocol):
    """An actor, or a summary of one: what its handle is made of."""

    @property
    def username(self) -> str | None: ...

    @property
    def domain(self) -> str: ...


def handle_of(actor: Named) -> str:
    """The actor's handle as every page shows it (``{{ actor | handle }}``); a server without names shows its host."""
    return format_handle(actor.username, actor.domain) if actor.username else actor.domain


def actor_view(actor: Actor, local_domain: str) -> ActorView:
    handle = handle_of(actor)
    url: str | None = actor.uri if actor.is_local else http_url(actor.url) or http_url(actor.uri)
    avatar = actor.icon_url if actor.icon_url and (actor.icon_url.startswith("/") or http_url(actor.icon_url)) else None
    return ActorView(name=actor.name or actor.username or actor.domain, handle=handle, url=url,
                     is_local=actor.is_local, avatar=avatar)


@dataclass(frozen=True)
class CallView:
    uri: str
    url: str | None  # our page for local calls, the origin's page for remote ones
    title: str
    cancelled: bool
    when: When
    place: str | None
    address: str | None
    map_url: str | None
    online_url: str | None
    description: str
    excerpt: str
    organizer: ActorView
    movements: list[str]
    region: str
    is_local: bool
    origin: str
    ics_url: str | None
    language: str | None = None  # for lang="…" on its title and text

    @property
    def where(self) -> str:
        if self.place or self.address:
            return ", ".join(p for p in (self.place, self.address) if p)
        return gettext("Online") if self.online_url else ""


def call_view(row: StoredObject, local_domain: str) -> CallView:
    assert row.start_time is not None
    url = row.uri if row.is_local else (http_url(row.url) or http_url(row.uri))
    place = (row.location_name or "").strip() or None
    address = (row.location_address or "").strip() or None
    if place and address and address.startswith(place):
        place = None
    # A remote call's copy here has a calendar file too: its own server may offer none (Mastodon-shaped peers).
    ics_url = f"{urlsplit(row.uri).path}.ics" if row.is_local else f"/calls/view.ics?url={quote(row.uri, safe='')}"
    return CallView(
        uri=row.uri, url=url, title=(row.name or "").strip() or gettext("Call to action"),
        cancelled=(row.event_status or "").upper() == "CANCELLED",
        when=when_of(row.start_time, row.end_time, row.timezone),
        place=place, address=address,
        map_url=map_url(row.latitude, row.longitude, address or place) if (place or address or row.latitude) else None,
        online_url=http_url(row.online_url),
        description=sanitize_html(row.content), excerpt=excerpt(row.content),
        organizer=actor_view(row.author, local_domain),
        movements=[m for m in (row.movements or []) if isinstance(m, str) and m.strip()],
        region=region_text(row.region_city, row.region_state, row.region_country),
        is_local=row.is_local, origin=urlsplit(row.uri).hostname or "", ics_url=ics_url, language=row.language,
    )


@dataclass(frozen=True)
class PostView:
    uri: str
    url: str | None
    title: str | None
    content: str
    author: ActorView
    published_iso: str
    published: str
    in_reply_to: str | None


def post_view(row: StoredObject, local_domain: str, *, in_thread: bool = False) -> PostView:
    """A post; ``in_thread`` when it is shown under the post it replies to (no "in reply to" link)."""
    published = row.published or row.created_at
    return PostView(
        uri=row.uri, url=row.uri if row.is_local else (http_url(row.url) or http_url(row.uri)),
        title=(row.name or "").strip() or None, content=sanitize_html(row.content),
        author=actor_view(row.author, local_domain),
        published_iso=published.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        published=f"{published.day} {published:%B %Y}, {published:%H:%M} UTC",
        in_reply_to=None if in_thread else http_url(row.in_reply_to),
    )


# The zone list's groups: IANA's areas, named for the reader where the list is shown (zones_with).
ZONE_AREAS = {
    "Africa": N_("Africa"), "America": N_("America"), "Antarctica": N_("Antarctica"), "Asia": N_("Asia"),
    "Atlantic": N_("Atlantic"), "Australia": N_("Australia"), "Europe": N_("Europe"), "Indian": N_("Indian Ocean"),
    "Pacific": N_("Pacific"), "Other": N_("Other"),
}


@functools.cache
def zone_groups() -> list[tuple[str, list[str]]]:
    """IANA zones for the <select>, grouped by continent; legacy aliases (US/…, Etc/…) left out."""
    groups: dict[str, list[str]] = {}
    for name in sorted(known_zones()):
        area = name.split("/", 1)[0]
        if "/" in name and area in ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe",
                                    "Indian", "Pacific"):
            groups.setdefault(area, []).append(name)
    return [*groups.items(), ("Other", ["UTC"])]


def zones_with(current: Any) -> list[tuple[str, list[str]]]:
    """The zone list, plus the call's own zone if it is an alias the list leaves out (set from the CLI,
    say): a <select> without it would silently switch the call to the first zone on save."""
    groups = [(gettext(ZONE_AREAS.get(area, area)), names) for area, names in zone_groups()]
    if not isinstance(current, str) or not current or any(current in names for _, names in groups):
        return groups
    return [*groups, (gettext("This call's zone"), [current])]
