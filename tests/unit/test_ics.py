"""The .ics download of a call to action, read back by an independent parser (icalendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from fedihub.coalitions.ics import build_calendar, filename_for
from fedihub.storage.models import Actor, StoredObject

UTC = UTC
START = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)  # 11:00 in Los Angeles


def make_call(**fields: object) -> StoredObject:
    author = Actor(uri="https://a.example/g/bay-climate", type="Group", username="bay-climate",
                   domain="a.example", name="Bay Climate Coalition")
    values: dict[str, object] = dict(
        uri="https://a.example/o/7f3c2a1e-0d4b-4a57-9a55-0c1f3b2f6a10", type="Event", is_local=True,
        visibility="public", name="Rally for transit funding",
        content="<p>Bring signs.</p><p>March to the Transit Board at noon.</p>",
        url="https://a.example/o/7f3c2a1e-0d4b-4a57-9a55-0c1f3b2f6a10",
        start_time=START, end_time=START + timedelta(hours=3), timezone="America/Los_Angeles",
        location_name="San Francisco City Hall", location_address="1 Dr Carlton B Goodlett Pl, San Francisco",
        event_status="CONFIRMED", movements=["climate", "transit"], latitude=37.7793, longitude=-122.4193,
        published=datetime(2026, 2, 20, 18, 0, tzinfo=UTC), data={},
        created_at=datetime(2026, 2, 20, 18, 0, tzinfo=UTC),
    )
    values.update(fields)
    row = StoredObject(**values)
    row.author = author
    return row


def parse_one(text: str) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_a_call_parses_back_with_its_time_place_link_and_organiser() -> None:
    text = build_calendar([make_call()], product="-//fedihub//test//EN")

    event = parse_one(text)
    assert str(event["SUMMARY"]) == "Rally for transit funding"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=3)
    assert str(event["LOCATION"]) == "San Francisco City Hall, 1 Dr Carlton B Goodlett Pl, San Francisco"
    assert str(event["URL"]) == "https://a.example/o/7f3c2a1e-0d4b-4a57-9a55-0c1f3b2f6a10"
    assert str(event["STATUS"]) == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Bring signs.\nMarch to the Transit Board at noon.")
    assert "Organised by Bay Climate Coalition" in description
    assert (event["GEO"].latitude, event["GEO"].longitude) == (37.7793, -122.4193)
    assert [str(c) for c in event["CATEGORIES"].cats] == ["climate", "transit"]


def test_every_line_ends_with_crlf_and_the_calendar_is_versioned() -> None:
    text = build_calendar([make_call()], product="-//fedihub//test//EN")

    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_the_uid_is_the_call_id_and_does_not_change_between_downloads() -> None:
    first = parse_one(build_calendar([make_call()], product="p"))
    edited = parse_one(build_calendar(
        [make_call(name="Rally moved indoors", updated=datetime(2026, 3, 1, tzinfo=UTC))], product="p",
    ))

    assert str(first["UID"]) == str(edited["UID"]) == "https://a.example/o/7f3c2a1e-0d4b-4a57-9a55-0c1f3b2f6a10"
    assert edited.decoded("LAST-MODIFIED") == datetime(2026, 3, 1, tzinfo=UTC)


def test_commas_semicolons_backslashes_and_newlines_are_escaped_and_read_back_unchanged() -> None:
    title = "Rent; strike, now \\ together\nsecond line"
    text = build_calendar([make_call(name=title, location_name="Hall A; room 3, 2nd floor")], product="p")

    assert "SUMMARY:Rent\\; strike\\, now \\\\ together\\nsecond line\r\n" in text
    event = parse_one(text)
    assert str(event["SUMMARY"]) == title
    assert str(event["LOCATION"]).startswith("Hall A; room 3, 2nd floor")


def test_a_remote_title_cannot_inject_another_event_or_property() -> None:
    hostile = "Picnic\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:Injected\r\nURL:javascript:alert(1)"
    text = build_calendar(
        [make_call(name=hostile, location_name="Park\rSTATUS:CANCELLED", url="https://x.example/\r\nX-EVIL:1")],
        product="p",
    )

    lines = text.split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1
    assert not any(line.startswith(("UID:evil", "X-EVIL", "STATUS:CANCELLED")) for line in lines)
    event = parse_one(text)
    assert str(event["SUMMARY"]).startswith("Picnic\nEND:VEVENT\nBEGIN:VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED"
    # A URL carrying a line break is dropped rather than escaped (URI values have no escapes).
    assert str(event["URL"]) == "https://a.example/o/7f3c2a1e-0d4b-4a57-9a55-0c1f3b2f6a10"


def test_control_characters_from_remote_text_are_removed() -> None:
    event = parse_one(build_calendar([make_call(name="Bell\x07 and\x00 null\x1b[31m")], product="p"))

    assert str(event["SUMMARY"]) == "Bell and null[31m"


def test_long_lines_are_folded_at_75_octets_without_breaking_characters() -> None:
    title = "Grève générale — manifestation unitaire ✊ " * 6
    text = build_calendar([make_call(name=title, content="<p>" + "é" * 300 + "</p>")], product="p")

    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert str(parse_one(text)["SUMMARY"]) == title.strip()


@pytest.mark.parametrize("length", [74, 75, 76, 150, 151])
def test_folding_is_exact_at_the_boundary(length: int) -> None:
    line = "SUMMARY:" + "X" * (length - len("SUMMARY:"))
    text = build_calendar([make_call(name=line.removeprefix("SUMMARY:"))], product="p")

    physical = physical_lines_of(text, "SUMMARY:")

    assert all(len(p.encode()) <= 75 for p in physical)
    assert "".join(p.removeprefix(" ") if i else p for i, p in enumerate(physical)) == line
    # icalendar's folding: at most 74 octets on the first line, a space and 74 on each continuation.
    assert len(physical) == (1 if length <= 74 else 1 + -(-(length - 74) // 74))


def physical_lines_of(text: str, prefix: str) -> list[str]:
    """The folded lines of the one content line starting with ``prefix``."""
    lines = text.split("\r\n")
    first = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    end = next(i for i in range(first + 1, len(lines)) if not lines[i].startswith(" "))
    return lines[first:end]


def test_a_cancelled_call_says_so_in_status_and_title() -> None:
    event = parse_one(build_calendar([make_call(event_status="CANCELLED")], product="p"))

    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "Cancelled: Rally for transit funding"


def test_an_online_call_without_a_place_gives_its_link_as_location() -> None:
    event = parse_one(build_calendar(
        [make_call(location_name=None, location_address=None, latitude=None, longitude=None,
                   online_url="https://meet.example/rally", end_time=None)],
        product="p",
    ))

    assert str(event["LOCATION"]) == "https://meet.example/rally"
    assert "GEO" not in event and "DTEND" not in event


def test_several_calls_make_one_calendar() -> None:
    rows = [make_call(uri=f"https://a.example/o/{n}") for n in range(3)]
    text = build_calendar(rows, product="p", name="Bay Climate, calls")

    calendar = icalendar.Calendar.from_ical(text)
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [r.uri for r in rows]
    assert "X-WR-CALNAME:Bay Climate\\, calls\r\n" in text


def test_the_download_name_is_made_from_the_title() -> None:
    assert filename_for(make_call(name="Rally for Transit Funding!")) == "rally-for-transit-funding.ics"
    assert filename_for(make_call(name="✊")) == "call-to-action.ics"


def test_plain_text_is_written_as_it_is() -> None:
    text = build_calendar([make_call(name="Tenants Union meeting")], product="p")

    assert "\r\nSUMMARY:Tenants Union meeting\r\n" in text
