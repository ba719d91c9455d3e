"""A local action as an organizer types it, checked once for the pledge form and `fedihub pledge`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fedihub.errors import InvalidInput
from fedihub.pledges.local_action import IncompleteAction, LocalActionInput, find_action_coordinates, read_local_action

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


def test_a_local_action_has_the_full_shape_of_a_call() -> None:
    action = read_local_action(
        title="Rally", start="2030-05-01T17:00", end="2030-05-01T19:00", place=" State Capitol ",
        address=" 2 E Capitol   Ave, Springfield ", latitude="39,798", longitude=" -89.654 ",
        online_url=" https://stream.example/live ", description="Bring signs.\n\nAnd water.",
        timezone="America/Chicago",
    )
    assert action is not None
    assert (action.place, action.address, action.latitude, action.longitude, action.online_url) == (
        "State Capitol", "2 E Capitol Ave, Springfield", 39.798, -89.654, "https://stream.example/live",
    )
    assert action.description == "Bring signs.\n\nAnd water."


def test_an_online_action_needs_no_place() -> None:
    action = read_local_action(title="Call-in", start="2030-05-01T17:00", place="", online_url="https://meet.example/x")
    assert action is not None and action.place == "" and action.online_url == "https://meet.example/x"


def test_any_field_typed_makes_the_action_required_in_full() -> None:
    with pytest.raises(IncompleteAction) as caught:
        read_local_action(title="", start="", place="", address="Main St")
    assert caught.value.field == "action_title"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"latitude": "91", "longitude": "2"}, "action_latitude", "latitude is a number from -90 to 90, like 41.88"),
        ({"latitude": "1", "longitude": "nan"}, "action_longitude",
         "longitude is a number from -180 to 180, like -87.63"),
        ({"latitude": "north", "longitude": "2"}, "action_latitude", "latitude is a number from -90 to 90, like 41.88"),
        ({"latitude": "41.9"}, "action_longitude", "give the latitude and the longitude together, or neither"),
        ({"online_url": "javascript:alert(1)"}, "action_online_url",
         "the online link must be a web address starting with https://"),
        ({"address": "x" * 501}, "action_address", "the address has at most 500 characters"),
        ({"place": "x" * 201}, "action_place", "the place name has at most 200 characters"),
        ({"description": "x" * 5001}, "action_description", "a description has at most 5,000 characters"),
    ],
)
def test_bad_place_fields_are_refused_next_to_their_field(changes: dict[str, str], field: str, message: str) -> None:
    typed = {"title": "Rally", "start": "2030-05-01T17:00", "place": "Park", "timezone": "America/Chicago"}
    with pytest.raises(InvalidInput) as caught:
        read_local_action(**{**typed, **changes})
    assert (caught.value.field, caught.value.public_message) == (field, message)


def test_typed_coordinates_are_where_the_action_is_on_a_map() -> None:
    assert find_action_coordinates(place="Park", address="", latitude=41.9, longitude=-87.6) == (41.9, -87.6)
    assert find_action_coordinates(place="Park", address="Main St", latitude=None, longitude=None) is None
