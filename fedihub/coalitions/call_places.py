"""Where a call is and in which time zone, when the organizer did not say: geocoded offline, never silently UTC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx

from fedihub.errors import InvalidInput
from fedihub.i18n.active import N_, gettext
from fedihub.places.gazetteer import Place, find_place
from fedihub.places.online import OnlineGeocoder
from fedihub.places.zones import find_zone
from fedihub.protocol.timezones import known_zone

Fields = Mapping[str, "str | list[str]"]


def _one(fields: Fields, name: str) -> str:
    value = fields.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Located:
    """A call's form fields with coordinates and zone filled in, and the place that gave them (if one did)."""

    fields: dict[str, str | list[str]]
    place: Place | None


def place_of_fields(fields: Fields) -> Place | None:
    """The gazetteer's answer for a form's city, state, country and address fields."""
    return find_place(
        city=_one(fields, "region_city") or None, region=_one(fields, "region_state") or None,
        country=_one(fields, "region_country") or None, address=_one(fields, "address") or None,
    )


async def fetch_address_coordinates(
    fields: Fields, geocoder: OnlineGeocoder | None, http: httpx.AsyncClient
) -> tuple[float, float] | None:
    """The online geocoder's (latitude, longitude) for a call's street address, for ``locate_call_fields``.

    Asked only when one is configured, a street address was given (the gazetteer knows towns, not
    streets) and no coordinates were typed; None otherwise or when it cannot answer (the gazetteer then does).
    """
    address = _one(fields, "address")
    if geocoder is None or not address or _one(fields, "latitude") or _one(fields, "longitude"):
        return None
    parts = (address, *(_one(fields, name) for name in ("region_city", "region_state", "region_country")))
    return await geocoder.fetch_coordinates(http, ", ".join(part for part in parts if part))


def locate_call_fields(fields: Fields, *, found: tuple[float, float] | None = None) -> Located:
    """Fill in what the organizer left empty: coordinates from the place fields, the zone from the coordinates.

    Typed coordinates are kept as typed (a bad number is reported by the form's own check). ``found`` is an
    online geocoder's answer for the address, used before the offline gazetteer. Blocking (the gazetteer is
    read on first use): run it in a worker thread.
    """
    filled: dict[str, str | list[str]] = dict(fields)
    place: Place | None = None
    latitude, longitude = _one(fields, "latitude"), _one(fields, "longitude")
    if not latitude and not longitude:
        if found is not None:
            latitude, longitude = f"{found[0]:.6f}", f"{found[1]:.6f}"
        elif (place := place_of_fields(fields)) is not None:
            latitude, longitude = f"{place.latitude:.5f}", f"{place.longitude:.5f}"
        filled["latitude"], filled["longitude"] = latitude, longitude
    if not _one(fields, "timezone"):
        zone = None
        try:
            zone = find_zone(float(latitude), float(longitude)) if latitude and longitude else None
        except ValueError:
            zone = None
        zone = zone or (place.timezone if place is not None else None)
        if zone is None:
            raise InvalidInput(
                gettext("choose a time zone: it could not be found from the place (give a city, or coordinates)"),
                field="timezone",
            )
        filled["timezone"] = zone
    return Located(filled, place)


def profile_zone(city: str | None, state: str | None, country: str | None,
                 latitude: float | None, longitude: float | None) -> str | None:
    """A coalition's time zone from its profile: its coordinates, else its town, state or country. Blocking."""
    if latitude is not None and longitude is not None and (zone := find_zone(latitude, longitude)):
        return zone
    place = find_place(city=city, region=state, country=country)
    return known_zone(place.timezone) if place is not None and place.timezone else None


# The start field's error for a past date; the call form recognises it to offer "Yes, this is in the past".
PAST_DATE = N_("this date is in the past. Check the date and time, "
               "or tick “Yes, this is in the past” to publish it anyway")


def is_past(start: datetime, end: datetime | None, now: datetime) -> bool:
    """Over already: ended, or started with no end given."""
    return (end if end is not None else start) < now


def check_not_past(start: datetime, end: datetime | None, now: datetime, *, confirmed: bool) -> None:
    """A call dated in the past is most often a typo (the wrong year, AM for PM): ask before publishing it."""
    if is_past(start, end, now) and not confirmed:
        raise InvalidInput(gettext(PAST_DATE), field="start")
