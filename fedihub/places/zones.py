"""The IANA time zone of a point on Earth, offline (timezonefinder's polygons, read lazily once)."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from fedihub.protocol.timezones import known_zone

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder


@functools.cache
def _finder() -> TimezoneFinder:
    # About 0.2 s and 23 MB resident the first time (numpy, h3, memory-mapped polygons): never at import,
    # so a server whose organizers never place a call does not carry it.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def find_zone(latitude: float, longitude: float) -> str | None:
    """The zone at these coordinates ("America/Chicago"), or None at sea or when it is not a zone we know."""
    if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90
            and -180 <= longitude <= 180):
        return None
    name = _finder().timezone_at(lat=latitude, lng=longitude)
    # Etc/GMT+5 and the like are sea zones: not a place's zone, and their signs confuse people.
    if name is None or name.startswith("Etc/"):
        return None
    return known_zone(name)
