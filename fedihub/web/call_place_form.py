"""The call form's place and time: defaults from the coalition, geocoding of what was left empty, past dates."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol

import anyio
from starlette.requests import Request

from fedihub.coalitions.call_places import Located, fetch_address_coordinates, locate_call_fields, profile_zone
from fedihub.i18n.active import gettext
from fedihub.maps.draw import Marker, draw_map
from fedihub.maps.projection import Box
from fedihub.places.online import OnlineGeocoder
from fedihub.web.state import runtime_of

PAST_FIELD = "past_ok"
# The pick-on-map fallback shows this much around the coalition (degrees each way): a metro area.
PICK_REACH = 0.6


class ProfilePlace(Protocol):
    """What the form reads of a coalition's profile."""

    region_city: str | None
    region_state: str | None
    region_country: str | None
    latitude: float | None
    longitude: float | None


def _one(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


async def coalition_zone(profile: ProfilePlace) -> str | None:
    """The zone of the coalition's place (profile coordinates, else its town or state), found in a thread."""
    return await anyio.to_thread.run_sync(functools.partial(
        profile_zone, profile.region_city, profile.region_state, profile.region_country,
        profile.latitude, profile.longitude,
    ))


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


async def locate_posted(request: Request, values: Mapping[str, Any]) -> Located:
    """Coordinates and zone for what the organizer left empty: the online geocoder first for a street
    address when one is set, else the gazetteer (as `fedihub call create` does)."""
    geocoder: OnlineGeocoder | None = getattr(request.app.state, "geocoder", None)
    found = await fetch_address_coordinates(values, geocoder, runtime_of(request).ctx.http)
    return await anyio.to_thread.run_sync(functools.partial(locate_call_fields, values, found=found))


def past_confirmed(values: Mapping[str, Any]) -> bool:
    return bool(values.get(PAST_FIELD))


async def pick_map(values: Mapping[str, Any], profile: ProfilePlace) -> Any:
    """A small server-drawn map around the call's (or the coalition's) place, to pick the spot on (JavaScript)."""
    latitude = _number(_one(values, "latitude")) if _one(values, "latitude") else profile.latitude
    longitude = _number(_one(values, "longitude")) if _one(values, "longitude") else profile.longitude
    if latitude is None or longitude is None or not (-85 < latitude < 85 and -179 < longitude < 179):
        return None
    box = Box(longitude - PICK_REACH, latitude - PICK_REACH / 2, longitude + PICK_REACH, latitude + PICK_REACH / 2)
    marker = Marker("call", gettext("The place of this call"), "#call-latitude", latitude, longitude)
    return await anyio.to_thread.run_sync(functools.partial(draw_map, [marker], box=box, width=480))
