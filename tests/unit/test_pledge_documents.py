"""Pledge documents: what we send matches Mobilizon's Join/Leave, and what we read survives odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedihub.protocol.builders import build_leave
from fedihub.protocol.pledges import (
    PLEDGE_CONTEXT,
    LocalAction,
    PledgeItem,
    PledgingCoalition,
    Report,
    build_collection_summary,
    build_join,
    build_local_action,
    build_pledge_item,
    read_list_version,
    read_local_action,
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


FULL_ACTION = LocalAction(
    uri="https://b.example/o/rally", name="Springfield rally", start=START, timezone="America/Chicago",
    place="State Capitol", url="https://b.example/o/rally", end=START + timedelta(hours=2),
    address="2 E Capitol Ave, Springfield", latitude=39.798, longitude=-89.654,
    online_url="https://stream.example/live", description="Bring signs & water.\n\nMeet at <noon>.",
)


def test_a_local_action_is_sent_in_the_shape_of_a_call() -> None:
    doc = build_local_action(FULL_ACTION)
    assert (doc["startTime"], doc["endTime"], doc["timezone"]) == (
        "2030-05-01T17:00:00-05:00", "2030-05-01T19:00:00-05:00", "America/Chicago"
    )
    assert doc["location"] == {
        "type": "Place", "name": "State Capitol",
        "address": {"type": "PostalAddress", "streetAddress": "2 E Capitol Ave, Springfield"},
        "latitude": 39.798, "longitude": -89.654,
    }
    assert doc["attachment"] == [
        {"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://stream.example/live"}
    ]
    assert doc["content"] == "<p>Bring signs &amp; water.</p><p>Meet at &lt;noon&gt;.</p>"
    # The terms it uses are defined in the context a Join carries.
    terms = PLEDGE_CONTEXT[1]
    assert {"streetAddress", "latitude", "longitude", "VirtualLocation", "address"} <= terms.keys()


def test_a_local_action_reads_back_the_same() -> None:
    item = PledgeItem(uri="https://b.example/a/1", call_uri=CALL,
                      coalition=PledgingCoalition(uri=COALITION, url=COALITION), action=FULL_ACTION, published=START,
                      vouched=True)
    assert read_pledge_item(build_pledge_item(item)) == item


def test_an_online_only_action_travels_as_a_virtual_location() -> None:
    online = LocalAction(uri="https://b.example/o/call-in", name="Call-in", start=START,
                         online_url="https://meet.example/x")
    doc = build_local_action(online)
    assert doc["location"] == {"type": "VirtualLocation", "name": "Online", "url": "https://meet.example/x"}
    assert read_local_action({**doc, "attachment": []}) == LocalAction(
        uri=online.uri, name="Call-in", start=START, url=online.uri, online_url="https://meet.example/x"
    )


def test_a_mobilizon_event_reads_as_a_local_action() -> None:
    event = load_fixture("mobilizon/event.json")
    action = read_local_action(event)
    assert action is not None
    assert (action.name, action.place, action.timezone) == (
        "Caledonian scottish dance class", "The Kenn Centre", "Europe/London"
    )
    assert action.address == "Devon Expressway, EX6 7TW, Teignbridge, England, United Kingdom"
    assert (action.latitude, action.longitude) == (50.66881615, -3.537739788359949)
    assert action.end is not None and action.start is not None and action.end - action.start == timedelta(hours=2)
    assert action.description is not None and action.description.startswith("£6 each.")
    assert "<" not in action.description


def test_a_hostile_local_action_is_bounded_and_cleaned() -> None:
    hostile = {
        "id": "https://b.example/o/x", "type": "Event", "name": "n" * 10_000,
        "startTime": "2030-05-01T17:00:00Z", "endTime": "2030-05-01T16:00:00Z",
        "location": {"type": "Place", "name": "p" * 10_000, "latitude": 91.5, "longitude": "1e999",
                     "address": {"type": "PostalAddress", "streetAddress": "s" * 10_000}},
        "attachment": [{"type": "Link", "name": "Website", "href": "javascript:alert(1)"}],
        "content": "<script>alert(1)</script><p>Hi</p>" + "d" * 10_000,
    }
    action = read_local_action(hostile)
    assert action is not None
    assert (len(action.name), len(action.place or ""), len(action.address or "")) == (300, 300, 500)
    assert (action.latitude, action.longitude, action.online_url, action.end) == (None, None, None, None)
    assert action.description is not None and len(action.description) == 5_000
    assert "alert" not in action.description and action.description.startswith("Hi")
    virtual = {**hostile, "attachment": [], "location": {"type": "VirtualLocation", "url": "javascript:alert(1)"}}
    assert read_local_action(virtual).online_url is None  # type: ignore[union-attr]


def test_a_list_version_reads_back_and_an_unusable_one_reads_as_absent() -> None:
    summary = build_collection_summary(collection_id=f"{CALL}/pledges", call_id=CALL, total=1, carriers=[],
                                       updated=START, version=7)
    assert read_list_version(summary) == 7
    # An older peer's summary has none; a hostile one's is ignored, never stored or compared.
    for odd in (None, True, -1, 2**31, 10**30, "8", 7.5):
        assert read_list_version({**summary, "listVersion": odd}) is None, odd
