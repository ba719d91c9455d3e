"""Time-zone names: which IANA zones we know, and the zone a name stands for (UTC when we do not know it).

One rule for every path: a zone is known when this machine's tz database lists it in
``zoneinfo.available_timezones()`` and it is a zone of the shared IANA database, not a file of this
machine ("localtime" is whatever the server is set to, "Factory" is tzdata's placeholder). Organizer
input is refused for any other name; a name a peer sends (Mobilizon's and FEP-8a8e's ``timezone``,
spec §2.2) is ignored and the time read in UTC. A name that works here must mean the same on the
peer and in calendar apps, which ``ZoneInfo()`` alone does not promise: it opens any such file.
"""

from __future__ import annotations

import functools
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

# Files in the tz directory that are not zones a person or a peer would mean.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
# The tz database's names of UTC itself: calendars write such times as UTC ("Z") times, which need no
# VTIMEZONE, and pages say "UTC" rather than "Zulu time".
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine's tz database knows (the time-zone <select> lists them).

    Read once per process: scanning the tz database costs about 10 ms.
    """
    return frozenset(available_timezones()) - _NOT_ZONES


def known_zone(name: Any) -> str | None:
    """``name`` without surrounding spaces when it is a zone we know, else None (also for non-strings)."""
    if not isinstance(name, str):
        return None
    name = name.strip()
    return name if name in known_zones() else None


def zone_info(name: Any) -> ZoneInfo | None:
    """The zone ``name`` stands for, or None when it is not one we know."""
    known = known_zone(name)
    return ZoneInfo(known) if known is not None else None


def zone_or_utc(name: Any) -> tzinfo:
    """The zone ``name`` stands for, UTC for none or one we do not know: a time still shows."""
    return zone_info(name) or UTC
