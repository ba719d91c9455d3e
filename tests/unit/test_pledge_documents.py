"""Pledge documents: what we send matches Mobilizon's Join/Leave, and what we read survives odd input."""

from __future__ import annotations

from datetime import UTC, datetime

from fedihub.protocol.builders import build_leave
from fedihub.protocol.pledges import (
    LocalAction,
    PledgeItem,
    PledgingCoalition,
    Report,
    build_join,
    build_pledge_item,
    read_pledge_item,
    read_report,
)
from tests.support.fixtures import load_fixture

CALL = "https://a.example/o/call"
COALITION = "https://b.example/g/renters"
START = datetime(2030, 5, 1, 22, 0, tzinfo=UTC)


def test_our_join_has_the_keys_mobilizon_reads() -> None:
    ours = build_join(activity_id="https://b.example/a/1", actor=COALITION, call_id=CALL, to=["https://a.example/g/t"],
                      published=START, message="We bring 40")
    mobilizon = load_fixture("mobilizon/join_event.json")
    assert {"id", "type", "actor", "object", "participationMessage"} <= ours.keys() & mobilizon.keys()
    assert (ours["type"], ours["object"], ours["participationMessage"]) == ("Join", CALL, "We bring 40")


def test_our_leave_is_shaped_like_mobilizons() -> None:
    ours = build_leave(activity_id="https://b.example/a/2", actor=COALITION, object_id=CALL, to=["https://a.example/g/t"])
    mobilizon = load_fixture("mobilizon/leave_event.json")
    assert {k: type(mobilizon[k]) for k in ("id", "type", "actor", "object")} == {
        k: type(ours[k]) for k in ("id", "type", "actor", "object")
    }
    assert ours["type"] == "Leave" and ours["object"] == CALL


def test_a_published_pledge_reads_back_the_same() -> None:
    item = PledgeItem(
        uri="https://b.example/a/1", call_uri=CALL,
        coalition=PledgingCoalition(uri=COALITION, name="Springfield Renters", handle="renters@b.example",
                                    url=COALITION, city="Springfield", state="Illinois", country="US",
                                    movements=("housing", "tenants")),
        message="We bring 40",
        action=LocalAction(uri="https://b.example/o/rally", name="Springfield rally", start=START,
                           timezone="America/Chicago", place="State Capitol", url="https://b.example/o/rally"),
        report=Report(happened=True, turnout=120, url="https://photos.example/1", reported_at=START),
        published=START, vouched=True,
    )
    assert read_pledge_item(build_pledge_item(item)) == item


def test_an_unvouched_pledge_is_published_without_its_report() -> None:
    item = PledgeItem(uri="https://b.example/a/1", call_uri=CALL, coalition=PledgingCoalition(uri=COALITION),
                      report=Report(happened=True, turnout=900_000))
    doc = build_pledge_item(item)
    assert doc["vouched"] is False and "report" not in doc
    # Only an explicit true vouches: a string, or no key at all (another server), is unvouched.
    assert read_pledge_item({**doc, "vouched": "true"}).vouched is False  # type: ignore[union-attr]
    assert read_pledge_item({**build_pledge_item(item), "vouched": True}).vouched is True  # type: ignore[union-attr]


def test_unreadable_parts_of_a_pledge_are_dropped_not_trusted() -> None:
    doc = {
        "id": "https://b.example/a/1", "type": "Join", "actor": COALITION, "object": CALL,
        "localAction": {"id": "javascript:alert(1)", "name": "x"},
        "report": {"happened": "yes", "turnout": 10},
    }
    item = read_pledge_item(doc)
    assert item is not None and item.action is None and item.report is None
    assert read_pledge_item({**doc, "type": "Follow"}) is None
    assert read_pledge_item({"type": "Join", "id": "https://b.example/a/1"}) is None


def test_a_report_turnout_must_be_a_plausible_count() -> None:
    assert read_report({"happened": True, "turnout": -5}) == Report(happened=True)
    assert read_report({"happened": True, "turnout": True}) == Report(happened=True)
    assert read_report({"happened": False, "turnout": 30}).turnout == 30  # type: ignore[union-attr]
