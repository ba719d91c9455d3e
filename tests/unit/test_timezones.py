"""Time-zone names: the one rule every form, reader, page and feed uses to decide a zone is real."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fedihub.protocol.timezones import (
    UTC_NAMES,
    known_zone,
    known_zones,
    zone_info,
    zone_or_utc,
)


def test_the_iana_zones_people_choose_are_known() -> None:
    assert {"Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "UTC", "Etc/GMT-2"} <= known_zones()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("  America/Chicago \n", "America/Chicago"),  # typed or sent with spaces: the zone is still meant
        ("Europe/Atlantis", None),
        ("europe/paris", None),  # IANA names are case-sensitive, and so are calendar apps
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
        ("localtime", None),  # a file of this machine that ZoneInfo() would open, not a zone
        ("posixrules", None),
        ("Factory", None),
        ("", None),
        (None, None),
        (7, None),
        (["Europe/Paris"], None),
    ],
)
def test_a_zone_is_known_only_when_the_tz_database_lists_it(name: Any, expected: str | None) -> None:
    assert known_zone(name) == expected


def test_zone_info_opens_only_known_zones() -> None:
    assert zone_info("Europe/Paris") == ZoneInfo("Europe/Paris")
    assert zone_info("Europe/Atlantis") is None and zone_info(None) is None


def test_an_unknown_zone_reads_as_utc_so_a_time_still_shows() -> None:
    moment = datetime(2026, 7, 14, 10, 0, tzinfo=UTC)

    assert moment.astimezone(zone_or_utc("Europe/Paris")).hour == 12
    assert zone_or_utc("Nowhere/Special") is UTC
    assert zone_or_utc(None) is UTC


def test_every_name_of_utc_is_a_known_zone() -> None:
    assert UTC_NAMES <= known_zones()
    assert all(datetime(2026, 1, 1, tzinfo=zone_or_utc(name)).utcoffset().total_seconds() == 0 for name in UTC_NAMES)
