"""Tolerant readers for what describes an actor or an event: places, profile fields, and the movements
(hashtags, read by protocol/movements.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from fedihub.protocol.limits import MAX_REGION
from fedihub.protocol.movements import hashtag_names
from fedihub.protocol.reader import as_list
from fedihub.protocol.urls import http_url
from fedihub.protocol.vocab import FEDIHUB_NAMESPACE

# Peers control these documents: every string is whitespace-collapsed and capped, and any value
# of an unexpected shape reads as absent instead of failing the whole document.
MAX_TEXT = 1000  # a place's name or street address
MAX_FIELD_VALUE = 2047  # Mastodon's limit on a profile field's value (spec §1.2)

# Our own extension for hubs (docs/federation/hubs.md "The extension terms"); peers that do not
# know it ignore it.
HUB_NAMESPACE = FEDIHUB_NAMESPACE
HUB_SCOPES = ("local", "regional", "state", "macro-regional", "national", "international")


def clean_text(value: Any, limit: int) -> str | None:
    """One line of plain text at most ``limit`` long; None for anything but a non-blank string."""
    if isinstance(value, Mapping):  # schema.org allows e.g. addressCountry as a Country object
        value = value.get("name")
    if not isinstance(value, str):
        return None
    return " ".join(value.split())[:limit] or None


def coordinate(value: Any, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180), from a number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


@dataclass(frozen=True)
class PlaceView:
    name: str | None = None
    address: str | None = None  # street and postal code, or an address given as one string
    city: str | None = None
    state: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def is_virtual_location(item: Any) -> bool:
    return isinstance(item, Mapping) and "VirtualLocation" in as_list(item.get("type"))


def read_place(place: Any) -> PlaceView:
    """A Place (name, string or PostalAddress address, coordinates), or a bare string as its name."""
    if not isinstance(place, Mapping):
        return PlaceView(name=clean_text(place, MAX_TEXT))
    name = clean_text(place.get("name"), MAX_TEXT)
    address = place.get("address")
    city = state = country = None
    if isinstance(address, Mapping):  # schema.org PostalAddress (Mobilizon, WordPress, fedihub)
        street = (clean_text(address.get(key), MAX_TEXT) for key in ("streetAddress", "postalCode"))
        text = ", ".join(filter(None, street))[:MAX_TEXT] or None
        city = clean_text(address.get("addressLocality"), MAX_REGION)
        state = clean_text(address.get("addressRegion"), MAX_REGION)
        country = clean_text(address.get("addressCountry"), MAX_REGION)
    else:
        text = clean_text(address, MAX_TEXT)
    # Mobilizon 2019 put the coordinates in `geo` (fixture mobilizon/event_2019_geo.json).
    geo = place.get("geo")
    geo = geo if isinstance(geo, Mapping) else place
    latitude, longitude = coordinate(geo.get("latitude"), 90), coordinate(geo.get("longitude"), 180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return PlaceView(name, text, city, state, country, latitude, longitude)


class _FirstLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and self.href is None:
            self.href = next((value for key, value in attrs if key == "href" and value), "")


def field_link(value: Any) -> str | None:
    """The web link of a profile field: its first <a href>, else the value itself if it is a URL."""
    if not isinstance(value, str) or len(value) > MAX_FIELD_VALUE:
        return None
    if "<" not in value:
        return http_url(value.strip())
    parser = _FirstLink()
    parser.feed(value)
    parser.close()
    return http_url((parser.href or "").strip())


def website_of(doc: Mapping[str, Any]) -> str | None:
    """A "Website" profile field: Mastodon's PropertyValue (HTML value), or a Link as Mobilizon sends."""
    for item in as_list(doc.get("attachment")):
        if not isinstance(item, Mapping) or str(item.get("name", "")).strip().casefold() != "website":
            continue
        if item.get("type") == "PropertyValue" and (url := field_link(item.get("value"))):
            return url
        if item.get("type") == "Link" and (url := http_url(item.get("href"))):
            return url
    return None


@dataclass(frozen=True)
class ActorProfile:
    movements: tuple[str, ...] = ()
    region_city: str | None = None
    region_state: str | None = None
    region_country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    website: str | None = None
    hub_scope: str | None = None
    hub_region: str | None = None


def _extension(doc: Mapping[str, Any], term: str) -> Any:
    # The compact term with our prefix, or the full IRI when a peer expanded it.
    return doc.get(f"fedihub:{term}", doc.get(f"{HUB_NAMESPACE}{term}"))


def read_actor_profile(doc: Mapping[str, Any]) -> ActorProfile:
    """Movements, region, coordinates, website and hub scope as fedihub and Mobilizon publish them.

    Region: the first non-virtual ``location`` Place with a PostalAddress (Mobilizon groups,
    fixture mobilizon/group.json; fedihub's profile_properties); an address given as a plain
    string has no structured parts, so it leaves the region empty.
    """
    places = [item for item in as_list(doc.get("location")) if isinstance(item, Mapping)]
    place = read_place(next((item for item in places if not is_virtual_location(item)), None))
    scope = _extension(doc, "hubScope")
    scope = scope if isinstance(scope, str) and scope in HUB_SCOPES else None
    return ActorProfile(
        movements=tuple(hashtag_names(doc)),
        region_city=place.city,
        region_state=place.state,
        region_country=place.country,
        latitude=place.latitude,
        longitude=place.longitude,
        website=website_of(doc),
        hub_scope=scope,
        hub_region=clean_text(_extension(doc, "hubRegion"), MAX_REGION) if scope else None,
    )
