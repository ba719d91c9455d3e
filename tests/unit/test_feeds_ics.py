"""The iCalendar writer for feeds: time zones checked against an independent VTIMEZONE reader
(icalendar's, on a renamed zone so it cannot fall back on its own tz database), repeated hours,
many calls at once, and remote text that tries to become structure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from fedihub.coalitions.ics import build_calendar, build_timezone, sequence_of, zone_of
from tests.unit.test_ics import make_call

ZONES = ["America/Chicago", "Australia/Sydney", "Europe/Dublin", "Asia/Kolkata", "America/Santiago",
         "Africa/Casablanca", "Pacific/Chatham"]


def _parsed(text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text)


@pytest.mark.parametrize("name", ZONES)
def test_the_vtimezone_gives_the_offset_of_every_local_time_in_the_years_it_covers(name: str) -> None:
    # Renamed, so the reader must build the zone from our observances alone (dateutil's tzical).
    alias = "Test-only-" + name.replace("/", "-")
    calendar = icalendar.Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", "p")
    calendar.add_component(build_timezone(name, [2026, 2027, 2031]))
    text = calendar.to_ical().decode().replace(f"TZID:{name}", f"TZID:{alias}")
    [vtimezone] = _parsed(text).walk("VTIMEZONE")
    theirs, ours = vtimezone.to_tz(), ZoneInfo(name)
    assert not isinstance(theirs, ZoneInfo)

    checked = 0
    for first in (datetime(2026, 1, 1, 3, tzinfo=UTC), datetime(2031, 1, 1, 3, tzinfo=UTC)):
        moment = first
        while moment < first.replace(year=first.year + (2 if first.year == 2026 else 1)):
            local = moment.astimezone(ours)
            moment += timedelta(hours=7)
            if local.fold:  # the repeated hour: a naive local time cannot name the second pass
                continue
            naive = local.replace(tzinfo=None)
            zoned = theirs.localize(naive) if hasattr(theirs, "localize") else naive.replace(tzinfo=theirs)
            offset = zoned.utcoffset()
            assert offset == local.utcoffset(), (name, naive)
            checked += 1
    assert checked > 3000


def test_a_call_across_the_spring_change_has_both_offsets_and_one_vtimezone() -> None:
    chicago = ZoneInfo("America/Chicago")
    start = datetime(2026, 3, 8, 1, 0, tzinfo=chicago)
    rows = [
        make_call(uri=f"https://a.example/o/{n}", start_time=start.astimezone(UTC),
                  end_time=start.astimezone(UTC) + timedelta(hours=3), timezone="America/Chicago")
        for n in range(2)
    ]

    text = build_calendar(rows, product="p")

    calendar = _parsed(text)
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
    event = calendar.walk("VEVENT")[0]
    assert "DTSTART;TZID=America/Chicago:20260308T010000\r\n" in text
    assert "DTEND;TZID=America/Chicago:20260308T050000\r\n" in text  # 01:00 CST + 3 h = 05:00 CDT
    # Same-zone subtraction in Python is wall-clock (4 h); the real length is 3 h.
    assert event.decoded("DTEND").astimezone(UTC) - event.decoded("DTSTART").astimezone(UTC) == timedelta(hours=3)


def test_the_second_pass_through_a_repeated_hour_is_written_in_utc() -> None:
    # 1 November 2026, 01:30 happens twice in Chicago; this is the second one (CST).
    second = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    row = make_call(start_time=second, end_time=second + timedelta(hours=1), timezone="America/Chicago")

    text = build_calendar([row], product="p")

    assert zone_of(row) is None and "DTSTART:20261101T073000Z\r\n" in text and "VTIMEZONE" not in text
    assert _parsed(text).walk("VEVENT")[0].decoded("DTSTART") == second


@pytest.mark.parametrize("zone", [None, "", "UTC", "Etc/UTC", "Not/AZone", "America/Chicago\r\nX-EVIL:1", "../../etc"])
def test_calls_without_a_zone_we_know_are_in_utc_with_no_vtimezone(zone: str | None) -> None:
    text = build_calendar([make_call(timezone=zone)], product="p")

    assert "DTSTART:20260314T180000Z\r\n" in text and "BEGIN:VTIMEZONE" not in text and "X-EVIL" not in text


def test_a_far_future_remote_call_is_written_in_utc() -> None:
    row = make_call(start_time=datetime(2600, 1, 1, tzinfo=UTC), end_time=None, timezone="Europe/Paris")

    text = build_calendar([row], product="p")

    assert "DTSTART:26000101T000000Z\r\n" in text and "VTIMEZONE" not in text


def test_sequence_grows_with_every_update_and_starts_at_zero() -> None:
    published = datetime(2026, 2, 20, 18, 0, tzinfo=UTC)
    assert sequence_of(make_call(published=published, updated=None)) == 0
    first = sequence_of(make_call(published=published, updated=published + timedelta(minutes=5)))
    second = sequence_of(make_call(published=published, updated=published + timedelta(days=3)))
    assert 0 < first < second
    assert sequence_of(make_call(published=published, updated=published - timedelta(days=1))) == 0


def test_the_organizer_name_is_a_quoted_parameter_that_cannot_break_out() -> None:
    row = make_call()
    row.author.name = 'Evil "Org"; role=CHAIR:\r\nX-EVIL:1 ^_^'

    text = build_calendar([row], product="p")

    assert not any(line.startswith("X-EVIL") for line in text.split("\r\n"))
    event = _parsed(text).walk("VEVENT")[0]
    assert str(event["ORGANIZER"]) == "https://a.example/g/bay-climate"
    # RFC 6868 round trip: the reader gets the name back exactly, quotes and line break included.
    assert event["ORGANIZER"].params["CN"] == 'Evil "Org"; role=CHAIR:\nX-EVIL:1 ^_^'
    row.author.name = 'a"b'
    assert _parsed(build_calendar([row], product="p")).walk("VEVENT")[0]["ORGANIZER"].params["CN"] == 'a"b'


def test_hostile_remote_text_stays_inside_its_property_across_many_events() -> None:
    hostile = "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nDTSTART:19700101T000000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT"
    rows = [
        make_call(uri="https://a.example/o/1", name=hostile, content=f"<p>{'ü✊' * 400}</p>"),
        make_call(uri="https://a.example/o/2", name="ok", location_name="é" * 80 + ";,\\\n"),
    ]

    text = build_calendar(rows, product="p", name="Feed\r\nX-EVIL:1", description="d;e,f")

    physical = text.split("\r\n")
    assert physical.count("BEGIN:VEVENT") == 2 and physical.count("END:VEVENT") == 2
    assert all(len(line.encode()) <= 75 for line in physical)
    assert not any(line.startswith(("UID:evil", "X-EVIL", "DTSTART:1970")) for line in physical)
    events = _parsed(text).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["https://a.example/o/1", "https://a.example/o/2"]
    assert str(events[0]["SUMMARY"]) == hostile.replace("\r\n", "\n")
    assert str(events[0]["DESCRIPTION"]).startswith("ü✊" * 400)
    assert str(events[1]["LOCATION"]).startswith("é" * 80 + ";,\\")


def test_a_feed_tells_calendar_apps_its_name_and_how_often_to_refresh() -> None:
    text = build_calendar([], product="p", name="Tenants, calls", description="All of them",
                          refresh=timedelta(hours=1))

    calendar = _parsed(text)
    # icalendar leaves calendar-level NAME unparsed (vUnknown), so the escaped line is checked as written.
    assert "\r\nNAME:Tenants\\, calls\r\n" in text and "\r\nX-WR-CALNAME:Tenants\\, calls\r\n" in text
    assert str(calendar["DESCRIPTION"]) == "All of them"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"  # required by RFC 7986 §5.7
    assert "X-PUBLISHED-TTL:PT60M\r\n" in text and calendar.walk("VEVENT") == []
