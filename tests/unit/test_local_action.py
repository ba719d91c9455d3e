"""A local action as an organizer types it, checked once for the pledge form and `fedihub pledge`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fedihub.errors import InvalidInput
from fedihub.pledges.local_action import IncompleteAction, LocalActionInput, read_local_action

CHICAGO = ZoneInfo("America/Chicago")


def test_nothing_typed_is_no_local_action() -> None:
    assert read_local_action(title="  ", start="", place=None, timezone="Europe/Paris") is None


def test_a_local_action_is_a_wall_clock_time_in_its_zone() -> None:
    action = read_local_action(
        title=" Springfield rally ", start="2030-05-01T17:00", place=" State Capitol ", timezone="America/Chicago",
        end="2030-05-01T19:30", description=" Bring signs. ",
    )
    assert action == LocalActionInput(
        title="Springfield rally", start=datetime(2030, 5, 1, 17, 0, tzinfo=CHICAGO), timezone="America/Chicago",
        place="State Capitol", end=datetime(2030, 5, 1, 19, 30, tzinfo=CHICAGO), description="Bring signs.",
    )


def test_without_a_zone_the_calls_zone_is_used_else_utc() -> None:
    in_calls_zone = read_local_action(title="Rally", start="2030-05-01T17:00", place="Park",
                                      default_timezone="America/Chicago")
    in_utc = read_local_action(title="Rally", start="2030-05-01T17:00", place="Park")
    assert in_calls_zone is not None and in_calls_zone.timezone == "America/Chicago"
    assert in_utc is not None and in_utc.timezone == "UTC" and in_utc.start.utcoffset() == timedelta(0)


def test_a_time_with_an_offset_is_taken_as_that_instant() -> None:
    action = read_local_action(title="Rally", start="2030-05-01T22:00+00:00", place="Park", timezone="America/Chicago")
    assert action is not None and action.start == datetime(2030, 5, 1, 17, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"start": "2030-05-01T17:00", "place": "Park"}, "action_title",
         "give your local action a title, or leave all its fields empty"),
        ({"title": "Rally", "place": "Park"}, "action_start", "when does your local action start?"),
        ({"title": "Rally", "start": "2030-05-01T17:00"}, "action_place", "where does your local action happen?"),
    ],
)
def test_a_half_given_action_names_the_first_part_missing(given: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(IncompleteAction) as caught:
        read_local_action(**{"title": None, "start": None, "place": None, **given})
    assert (caught.value.field, caught.value.public_message) == (field, message)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "action_timezone", "'Mars/Olympus_Mons' is not a time zone we know"),
        ({"title": "x" * 201}, "action_title", "a title has at most 200 characters"),
        ({"start": "May Day"}, "action_start", "give a date and a time, like 2026-03-14T11:00"),
        ({"end": "2030-05-01T16:00"}, "action_end", "your local action must end after it starts"),
    ],
)
def test_what_is_wrong_is_said_next_to_its_field(changes: dict[str, str], field: str, message: str) -> None:
    typed = {"title": "Rally", "start": "2030-05-01T17:00", "place": "Park", "timezone": "America/Chicago"}
    with pytest.raises(InvalidInput) as caught:
        read_local_action(**{**typed, **changes})
    assert not isinstance(caught.value, IncompleteAction)
    assert (caught.value.field, caught.value.public_message) == (field, message)
