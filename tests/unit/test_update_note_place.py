"""The update note's place line says each part of a place once, whatever name the address gives it."""

from __future__ import annotations

from datetime import UTC, datetime

from fedihub.coalitions.event_text import CallFacts, describe_changes, format_place


def _facts(address: str) -> CallFacts:
    return CallFacts(
        title="Rally", start=datetime(2026, 5, 1, 17, tzinfo=UTC), end=None, timezone="America/Chicago",
        place_name="Federal Plaza", address=address, region=("Chicago", "Illinois", "US"),
    )


def test_the_update_note_does_not_repeat_a_state_the_address_abbreviates() -> None:
    before, after = _facts("50 W Adams St, Chicago"), _facts("219 S Dearborn St, Chicago, IL 60604, USA")
    lines = describe_changes(before, after)
    assert lines == ["New place: Federal Plaza, 219 S Dearborn St, Chicago, IL 60604, USA"]


def test_a_region_the_address_leaves_out_is_still_added() -> None:
    assert format_place("Federal Plaza", "50 W Adams St, Chicago", ("Chicago", "Illinois", "US")) == (
        "Federal Plaza, 50 W Adams St, Chicago, Illinois, US"
    )
