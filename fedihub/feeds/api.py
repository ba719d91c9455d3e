"""The read-only calls API: its query parameters and one call as JSON, with its pledge roll-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fedihub.coalitions.ics import status_of
from fedihub.errors import InvalidInput
from fedihub.pledges.rollup import Rollup
from fedihub.protocol.html import html_to_text
from fedihub.protocol.limits import MAX_PAGE
from fedihub.protocol.timezones import known_zone
from fedihub.protocol.urls import http_url
from fedihub.storage.models import StoredObject

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)


@dataclass(frozen=True)
class Paging:
    upcoming: bool
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# The JSON API's errors stay English, as the federation API's: programs read them, not people.
def _number(params: Mapping[str, str], name: str, default: int, highest: int) -> int:
    text = str(params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= highest:
        raise InvalidInput(f"{name} is a whole number from 1 to {highest}", field=name)
    return int(text)


def parse_paging(params: Mapping[str, str]) -> Paging:
    """``upcoming`` (true by default), ``page`` from 1 and ``per_page`` up to MAX_PER_PAGE."""
    flag = str(params.get("upcoming") or "true").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise InvalidInput("upcoming is true or false", field="upcoming")
    return Paging(
        upcoming=flag in _TRUE, page=_number(params, "page", 1, MAX_PAGE),
        per_page=_number(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def _zone(row: StoredObject) -> tuple[str, ZoneInfo | Any]:
    name = known_zone(row.timezone)
    return (name, ZoneInfo(name)) if name is not None else ("UTC", UTC)


def _iso(moment: datetime | None, zone: Any) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _utc(moment: datetime | None) -> str | None:
    # docs/API.md: instants are UTC with a Z; only a call's start and end keep their local offset.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def plain_text(html: str | None) -> str:
    """The description as plain text, paragraphs kept as blank lines (the API serves no HTML)."""
    text = html_to_text(_BLOCK_END.sub("\n\n", _BREAK.sub("\n", html or "")))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def call_json(row: StoredObject, *, page: str, rollup: Rollup, local_domain: str) -> dict[str, Any]:
    """One call: times in its own zone with their offset, what the page shows, and the roll-up counts."""
    zone_name, zone = _zone(row)
    author = row.author
    has_point = row.latitude is not None and row.longitude is not None
    return {
        "id": row.uri,
        "url": http_url(row.url) or row.uri,
        "page": page,
        "title": (row.name or "").strip() or "Call to action",
        "start": _iso(row.start_time, zone),
        "end": _iso(row.end_time, zone) if row.end_time and row.start_time and row.end_time > row.start_time else None,
        "timezone": zone_name,
        "place": row.location_name,
        "address": row.location_address,
        "online_url": http_url(row.online_url),
        "status": status_of(row),
        "movements": [m for m in (row.movements or []) if isinstance(m, str) and m.strip()],
        "region": {"city": row.region_city, "state": row.region_state, "country": row.region_country},
        "coordinates": {"latitude": row.latitude, "longitude": row.longitude} if has_point else None,
        "organizer": {
            "id": author.uri, "name": author.name or author.username,
            "handle": author.handle if author.username else None,
            "url": http_url(author.url) or author.uri,
        },
        # "count" is vouched pledges only (the headline); unvouched ones are counted apart.
        "pledges": {"count": rollup.pledged, "unvouched": rollup.unvouched, "local_actions": len(rollup.actions)},
        "description": plain_text(row.content),
        "published": _utc(row.published),
        "updated": _utc(row.updated),
    }
