"""Calls to action as Events: what Mastodon users read, what calendars parse, and form validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fedihub.coalitions import event_text
from fedihub.coalitions.calls import CallInput, parse_call_form, to_form_fields, validate_call
from fedihub.errors import InvalidForm, InvalidInput
from fedihub.protocol import jsonld
from fedihub.protocol.builders import EventPlace, build_create, build_event
from fedihub.protocol.html import html_to_text
from fedihub.protocol.movements import hashtag_of
from fedihub.protocol.reader import read_activity, read_object
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import StoredObject

HOST = "https://fedihub.example"
GROUP = f"{HOST}/g/bay-climate"
EVENT_ID = f"{HOST}/o/7f3c2a9e-0d7b-4a43-9d55-1c3e0a2b6f10"
LA = ZoneInfo("America/Los_Angeles")
PARIS = ZoneInfo("Europe/Paris")
CITY_HALL = EventPlace(
    name="San Francisco City Hall", street_address="1 Dr Carlton B Goodlett Pl", locality="San Francisco",
    region="CA", country="US", latitude=37.7793, longitude=-122.4193,
)


def rally(**overrides: object) -> dict:
    start = datetime(2026, 3, 14, 11, 0, tzinfo=LA)
    facts = event_text.CallFacts(
        title="Rally for transit funding", start=start, end=start + timedelta(hours=3), timezone="America/Los_Angeles",
        place_name=CITY_HALL.name, address=CITY_HALL.street_address, region=("San Francisco", "CA", "US"),
    )
    arguments: dict = dict(
        object_id=EVENT_ID, attributed_to=GROUP, name=facts.title, content_html="<p>Bring signs.</p>",
        summary_html=event_text.build_event_summary(facts, pitch="Bring signs; march to the Transit Board at noon."),
        start=facts.start, end=facts.end, timezone=facts.timezone, published=datetime(2026, 2, 20, 18, tzinfo=UTC),
        to=[PUBLIC], cc=[f"{GROUP}/followers"], place=CITY_HALL, hashtags=["TransitNow", "Climate"],
    )
    arguments.update(overrides)
    return build_event(**arguments)


def as_mastodon_shows_it(event: dict) -> str:
    """Mastodon's status text for converted types: the name, the summary, then the link (spec §1.8)."""
    summary = html_to_text(event["summary"].replace("<br>", "\n").replace("</p>", "\n"))
    return "\n\n".join([event["name"], summary, event["url"]])


# --- What Mastodon users read ------------------------------------------------------------------------


def test_mastodon_readers_see_the_date_time_zone_and_place() -> None:
    text = as_mastodon_shows_it(rally())

    assert "Rally for transit funding" in text
    assert "When: Saturday 14 March 2026, 11:00–14:00 PDT (America/Los_Angeles)" in text
    assert "Where: San Francisco City Hall, 1 Dr Carlton B Goodlett Pl, San Francisco, CA, US" in text
    assert "Bring signs; march to the Transit Board at noon." in text
    assert text.endswith(EVENT_ID)  # the page to open, on our own host


def test_an_online_call_says_online_and_links_the_meeting() -> None:
    start = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    facts = event_text.CallFacts(
        title="Call-in", start=start, end=None, timezone="UTC", online_url="https://meet.example/r?a=1&b=2"
    )

    summary = event_text.build_event_summary(facts)

    assert summary == (
        '<p>When: Friday 1 May 2026, 18:00 UTC<br>'
        'Online: <a href="https://meet.example/r?a=1&amp;b=2">https://meet.example/r?a=1&amp;b=2</a></p>'
    )


def test_a_cancelled_call_says_so_first_with_the_reason() -> None:
    start = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    facts = event_text.CallFacts(title="March", start=start, end=None, timezone="UTC", place_name="Park <b>")

    summary = event_text.build_event_summary(facts, cancelled=True, cancel_reason="Storm warning.\nStay safe.")

    assert summary.startswith("<p><strong>CANCELLED</strong></p><p>Storm warning.<br>Stay safe.</p>")
    assert "Where: Park &lt;b&gt;" in summary  # organizer text is escaped, never markup


def test_times_are_written_in_the_events_zone_with_its_offset_across_dst() -> None:
    # Clocks go back in Paris in the night of 24–25 October 2026: +02:00 before, +01:00 after.
    start = datetime(2026, 10, 24, 22, 0, tzinfo=PARIS)
    event = rally(start=start, end=datetime(2026, 10, 25, 6, 0, tzinfo=PARIS), timezone="Europe/Paris")

    assert event["startTime"] == "2026-10-24T22:00:00+02:00"
    assert event["endTime"] == "2026-10-25T06:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    assert event_text.format_when(start, datetime(2026, 10, 25, 6, 0, tzinfo=PARIS), "Europe/Paris") == (
        "Saturday 24 October 2026, 22:00 CEST – Sunday 25 October 2026, 06:00 CET (Europe/Paris)"
    )
    # The same wall time in winter and in summer has different offsets: never a fixed one.
    winter = rally(start=datetime(2026, 1, 10, 11, 0, tzinfo=UTC), end=None)
    summer = rally(start=datetime(2026, 7, 10, 11, 0, tzinfo=UTC), end=None)
    assert winter["startTime"] == "2026-01-10T03:00:00-08:00"
    assert summer["startTime"] == "2026-07-10T04:00:00-07:00"


def test_zones_without_letters_for_their_abbreviation_show_the_offset() -> None:
    start = datetime(2026, 6, 1, 9, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))

    when = event_text.format_when(start, None, "America/Sao_Paulo")

    assert when == "Monday 1 June 2026, 09:30 UTC-03 (America/Sao_Paulo)"


# --- What calendars and FEP-8a8e consumers parse -----------------------------------------------------


def test_the_event_carries_the_fep_8a8e_and_mobilizon_fields() -> None:
    event = rally(online_url="https://meet.example/transit", status="CANCELLED")

    assert event["type"] == "Event" and event["name"] == "Rally for transit funding"
    assert event["startTime"] == "2026-03-14T11:00:00-07:00" and event["endTime"] == "2026-03-14T14:00:00-07:00"
    assert event["location"] == {
        "type": "Place", "name": "San Francisco City Hall",
        "address": {"type": "PostalAddress", "streetAddress": "1 Dr Carlton B Goodlett Pl",
                    "addressLocality": "San Francisco", "addressRegion": "CA", "addressCountry": "US"},
        "latitude": 37.7793, "longitude": -122.4193,
    }
    assert event["attachment"] == [
        {"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://meet.example/transit"}
    ]
    assert event["status"] == "CANCELLED" and event["eventStatus"] == "EventCancelled"
    # Without a pledges collection, participation happens on the call's page (FEP-8a8e).
    assert event["joinMode"] == "external" and event["externalParticipationUrl"] == EVENT_ID
    assert event["category"] == "MOVEMENTS_POLITICS"
    assert event["tag"] == [{"type": "Hashtag", "name": "#TransitNow"}, {"type": "Hashtag", "name": "#Climate"}]
    assert event["to"] == [PUBLIC] and event["cc"] == [f"{GROUP}/followers"]
    assert event["attributedTo"] == GROUP and event["mediaType"] == "text/html"


def test_an_online_only_call_has_a_virtual_location() -> None:
    event = rally(place=None, online_url="https://meet.example/transit")

    assert event["location"] == {"type": "VirtualLocation", "name": "Online", "url": "https://meet.example/transit"}
    assert event["isOnline"] is True


def test_the_event_has_no_actor_property_but_its_create_does() -> None:
    event = rally()
    create = build_create(activity_id=f"{EVENT_ID}/activity", actor=GROUP, obj=event)

    assert "actor" not in event  # Rebased rejects an Event whose actor differs from attributedTo
    assert "actor" not in create["object"] and "@context" not in create["object"]
    assert create["actor"] == GROUP and create["to"] == [PUBLIC]
    assert read_activity(create).object_id == EVENT_ID


def test_every_term_means_what_mobilizon_and_fep_8a8e_mean_offline() -> None:
    expanded = jsonld.expand(rally(online_url="https://meet.example/transit"))[0]

    assert expanded["https://joinmobilizon.org/ns#timezone"][0]["@value"] == "America/Los_Angeles"
    assert expanded["https://w3id.org/fep/8a8e/eventStatus"] == [{"@id": "https://w3id.org/fep/8a8e/EventScheduled"}]
    assert expanded["http://www.w3.org/2002/12/cal/ical#status"][0]["@value"] == "CONFIRMED"
    assert "http://schema.org#location" in expanded and "http://schema.org#category" in expanded
    assert "https://joinmobilizon.org/ns#externalParticipationUrl" in expanded
    pledging = jsonld.expand(rally(pledges=f"{EVENT_ID}/pledges", participant_count=3, super_event=EVENT_ID))[0]
    assert pledging["https://joinmobilizon.org/ns#joinMode"][0]["@value"] == "free"
    assert pledging["https://joinmobilizon.org/ns#participantCount"][0]["@value"] == 3
    assert pledging["https://fedihub.example/ns#pledges"] == [{"@id": f"{EVENT_ID}/pledges"}]
    assert pledging["http://schema.org#superEvent"] == [{"@id": EVENT_ID}]
    assert expanded["https://www.w3.org/ns/activitystreams#startTime"][0]["@value"] == "2026-03-14T11:00:00-07:00"


def test_our_reader_reads_back_what_we_send() -> None:
    view = read_object(rally())

    assert view.type == "Event" and view.attributed_to == GROUP
    assert view.start_time == "2026-03-14T11:00:00-07:00" and view.timezone == "America/Los_Angeles"
    assert view.location_name == "San Francisco City Hall" and view.status == "CONFIRMED"


def test_bad_event_input_is_refused() -> None:
    with pytest.raises(InvalidInput):
        rally(timezone="Mars/Olympus_Mons")
    with pytest.raises(InvalidInput):
        rally(end=datetime(2026, 3, 14, 10, 0, tzinfo=LA))
    with pytest.raises(InvalidInput):
        rally(status="MAYBE")


@pytest.mark.parametrize(
    ("movement", "hashtag"),
    [("Black Lives Matter", "BlackLivesMatter"), ("anti-austerity", "AntiAusterity"),
     ("$15 / Fight for 15", "15FightFor15"), ("solidarité", "Solidarité"), ("#Tenants", "Tenants"), ("15", None)],
)
def test_movements_become_hashtags_mastodon_links(movement: str, hashtag: str | None) -> None:
    assert hashtag_of(movement) == hashtag


# --- The call form -----------------------------------------------------------------------------------


def form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "title": "Rally for transit funding", "description": "Bring **signs**.", "start": "2026-03-14T11:00",
        "end": "2026-03-14T14:00", "timezone": "America/Los_Angeles", "place_name": "City Hall steps",
        "address": "1 Dr Carlton B Goodlett Pl", "online_url": "", "movements": ["climate", "labour"],
        "tags": "TransitNow, #climate", "region_city": "San Francisco", "region_state": "CA", "region_country": "US",
        "latitude": "37.7793", "longitude": "-122.4193",
    }
    fields.update(overrides)
    return fields


def test_a_good_form_gives_a_call_in_its_own_time_zone() -> None:
    data = parse_call_form(form())

    assert data.title == "Rally for transit funding"
    assert data.start == datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
    assert data.start.utcoffset() == timedelta(hours=-7)  # wall time kept in the chosen zone
    assert data.end == datetime(2026, 3, 14, 21, 0, tzinfo=UTC)
    assert data.movements == ["climate", "labour", "TransitNow"]  # checkboxes + free tags, no duplicates
    assert (data.latitude, data.longitude) == (37.7793, -122.4193)


def test_an_online_call_needs_no_place_and_an_open_end_is_allowed() -> None:
    online = form(place_name="", address="", online_url="https://meet.example/x", end="", latitude="", longitude="")

    data = parse_call_form(online)

    assert data.place_name is None and data.end is None and data.online_url == "https://meet.example/x"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": "   "}, "title", "title"),
        ({"title": "x" * 201}, "title", "200"),
        ({"description": "x" * 20_001}, "description", "20000"),
        ({"timezone": ""}, "timezone", "time zone"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "Europe/Atlantis"),
        ({"start": ""}, "start", "starts"),
        ({"start": "14/03/2026 11:00"}, "start", "2026-03-14T11:00"),
        ({"start": "2026-02-30T11:00"}, "start", "does not exist"),
        ({"start": "2026-03-08T02:30"}, "start", "clocks change"),  # skipped by DST in Los Angeles
        ({"start": "1900-01-01T10:00", "end": ""}, "start", "1970"),
        ({"end": "2026-03-14T10:00"}, "end", "after the start"),
        ({"end": "2026-03-14T11:00"}, "end", "after the start"),
        ({"end": "soon"}, "end", "2026-03-14T11:00"),
        ({"place_name": "x" * 201}, "place_name", "200"),
        ({"address": "x" * 501}, "address", "500"),
        ({"online_url": "javascript:alert(1)"}, "online_url", "https://"),
        ({"online_url": "ftp://files.example/x"}, "online_url", "https://"),
        ({"place_name": "", "address": "", "online_url": ""}, "place_name", "place"),
        ({"movements": ["x" * 65]}, "movements", "64"),
        ({"tags": "!!!"}, "movements", "letter"),
        ({"tags": ",".join(f"tag{n}" for n in range(30))}, "movements", "20"),
        ({"region_city": "x" * 201}, "region_city", "200"),
        ({"region_country": "x" * 201}, "region_country", "200"),
        ({"latitude": "north"}, "latitude", "number"),
        ({"latitude": "91"}, "latitude", "-90 to 90"),
        ({"longitude": ""}, "longitude", "longitude"),
        ({"longitude": "nan"}, "longitude", "number"),
        ({"longitude": "-181"}, "longitude", "-180 to 180"),
    ],
)
def test_each_bad_field_is_named_so_the_form_can_show_it(overrides: dict, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_call_form(form(**overrides))

    assert caught.value.field == field
    assert words in caught.value.public_message


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidForm) as caught:
        parse_call_form(form(title="", online_url="ftp://x", latitude="north"))

    assert set(caught.value.errors) == {"title", "online_url", "latitude"}


def test_code_that_builds_a_call_itself_gets_the_same_rules() -> None:
    start = datetime(2026, 3, 14, 11, 0, tzinfo=LA)
    with pytest.raises(InvalidInput) as caught:
        validate_call(CallInput(title="Rally", description="", start=start, end=start, timezone="America/Los_Angeles",
                                place_name="City Hall"))
    assert caught.value.field == "end"
    with pytest.raises(InvalidInput) as caught:
        validate_call(CallInput(title="Rally", description="", start=start.replace(tzinfo=None), end=None,
                                timezone="America/Los_Angeles", place_name="City Hall"))
    assert caught.value.field == "start"


def test_the_edit_form_is_prefilled_with_what_was_saved() -> None:
    data = parse_call_form(form())
    call = StoredObject(
        name=data.title, source=data.description, start_time=data.start.astimezone(UTC),
        end_time=data.end.astimezone(UTC) if data.end else None, timezone=data.timezone,
        location_name=data.place_name, location_address=data.address, online_url=data.online_url,
        movements=data.movements, region_city=data.region_city, region_state=data.region_state,
        region_country=data.region_country, latitude=data.latitude, longitude=data.longitude,
    )

    fields = to_form_fields(call)

    assert fields["start"] == "2026-03-14T11:00" and fields["end"] == "2026-03-14T14:00"
    assert fields["online_url"] == "" and fields["tags"] == "climate, labour, TransitNow"
    assert parse_call_form(fields) == data  # saving the form unchanged changes nothing
