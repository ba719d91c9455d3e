"""Announcements and calls to action from the organizer pages: post, edit, cancel, delete."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from fedihub.coalitions import calls, service
from fedihub.storage.models import Actor, StoredObject
from tests.integration.helpers import count_rows, followed_by
from tests.integration.manage_helpers import field_error, notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance
from tests.support.stored import only_event

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

NEW = "/manage/tenants/calls/new"
CALL = {
    "title": "Rally for rent control",
    "description": "Bring **signs**.",
    "start": "2031-03-14T11:00",
    "end": "2031-03-14T14:00",
    "timezone": "America/Los_Angeles",
    "place_name": "City Hall steps",
    "address": "1 Frank H Ogawa Plaza, Oakland",
    "online_url": "",
    "movements": ["Tenants"],
    "tags": "rent control",
    "region_city": "Oakland",
    "region_state": "California",
    "region_country": "US",
    "latitude": "",
    "longitude": "",
}


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


def key_of(row: StoredObject) -> str:
    return row.uri.rsplit("/", 1)[-1]


# --- Announcements ---------------------------------------------------------------------------------


async def test_an_announcement_reaches_followers(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    response = await eddie.submit("/manage/tenants/announce", "/manage/tenants/announce",
                                  {"text": "Meeting **tonight** at 7"})

    assert response.status_code == 303 and response.headers["location"] == "/manage/tenants?done=announced"
    overview = await eddie.get(response.headers["location"])
    assert notice(overview) == "The announcement is posted and on its way to your followers."
    assert "<strong>tonight</strong>" in overview.text
    await net.settle()
    [create] = peer.received("Create")
    assert create["object"]["content"] == "<p>Meeting <strong>tonight</strong> at 7</p>"


async def test_an_empty_announcement_is_an_error_next_to_the_text(a: Instance, eddie: Browser) -> None:
    response = await eddie.submit("/manage/tenants/announce", "/manage/tenants/announce", {"text": "   "})

    assert response.status_code == 400
    assert field_error(response, "announce-text") == "Error: the post is empty"
    assert await count_rows(a, StoredObject) == 0


async def test_an_announcement_can_be_deleted_from_the_overview(a: Instance, eddie: Browser) -> None:
    note = await committed(a.ctx, service.post_note, "tenants", "Wrong date, sorry")

    delete = f"/manage/tenants/posts/{key_of(note)}/delete"

    unconfirmed = await eddie.submit("/manage/tenants", delete, {})
    assert unconfirmed.status_code == 400
    assert await count_rows(a, StoredObject, StoredObject.deleted_at.is_(None)) == 1

    response = await eddie.submit("/manage/tenants", delete, {"confirm": "on"})
    assert response.status_code == 303
    assert await count_rows(a, StoredObject, StoredObject.deleted_at.is_(None)) == 0
    assert (await a.get(f"/o/{key_of(note)}", headers={"Accept": "text/html"})).status_code == 410


# --- Calls to action -------------------------------------------------------------------------------


async def test_the_new_call_form_starts_from_the_coalitions_zone_region_and_movements(
    a: Instance, eddie: Browser
) -> None:
    page = await eddie.get(NEW)

    assert page.status_code == 200
    assert '<select id="call-timezone" name="timezone"' in page.text
    # No place in the profile and no call yet: the zone is found from the call's place, never UTC by default.
    assert '<option value="" selected>Find it from the place</option>' in page.text
    assert '<option value="Europe/Paris">' in page.text
    assert 'type="datetime-local"' in page.text
    for field in ("title", "description", "start", "end", "place_name", "address", "online_url", "tags"):
        assert f'<label for="call-{field}">' in page.text, field


async def test_a_call_to_action_posted_from_the_form_reaches_followers_as_an_event(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    response = await eddie.submit(NEW, NEW, CALL)

    assert response.status_code == 303
    assert notice(await eddie.get(response.headers["location"])) == (
        "The call to action is published and on its way to your followers."
    )
    row = await only_event(a)
    assert row.name == "Rally for rent control"
    assert row.timezone == "America/Los_Angeles"
    assert row.start_time is not None and row.start_time.isoformat() == "2031-03-14T18:00:00+00:00"  # 11:00 PDT
    # Ticked movements and typed tags become the same hashtags the profile uses.
    assert row.movements == ["Tenants", "RentControl"]
    await net.settle()
    [create] = peer.received("Create")
    assert create["object"]["type"] == "Event"
    assert create["object"]["name"] == "Rally for rent control"

    # The next new call starts in the zone this coalition uses; so do other coalitions' first calls here.
    assert '<option value="America/Los_Angeles" selected>' in (await eddie.get(NEW)).text
    await committed(a.ctx, service.create_coalition, "climate", name="Climate Action Now")
    admin = await organizer(a, "root", is_admin=True)
    assert '<option value="America/Los_Angeles" selected>' in (await admin.get("/manage/climate/calls/new")).text
    await admin.client.aclose()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"start": ""}, "start"),
        ({"end": "2031-03-14T10:00"}, "end"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"place_name": "", "address": "", "online_url": ""}, "place_name"),
        ({"tags": "2031"}, "tags"),
    ],
)
async def test_a_mistake_in_a_call_is_shown_next_to_its_field_and_nothing_is_published(
    a: Instance, eddie: Browser, changes: dict[str, str], field: str
) -> None:
    response = await eddie.submit(NEW, NEW, {**CALL, **changes})

    assert response.status_code == 400
    assert field_error(response, f"call-{field}"), response.text
    assert 'value="Rally for rent control"' in response.text or field == "title"
    assert await count_rows(a, StoredObject) == 0


async def test_editing_a_call_prefills_the_form_and_sends_the_change(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await eddie.submit(NEW, NEW, CALL)
    row = await only_event(a)
    edit = f"/manage/tenants/calls/{key_of(row)}/edit"

    form = await eddie.get(edit)
    assert 'value="2031-03-14T11:00"' in form.text  # the wall-clock time in the call's own zone
    assert '<option value="America/Los_Angeles" selected>' in form.text
    assert re.search(r'value="Tenants" checked', form.text)
    assert 'value="RentControl"' in form.text

    response = await eddie.submit(edit, edit, {**CALL, "start": "2031-03-14T12:00", "end": "2031-03-14T15:00"})

    assert response.status_code == 303
    assert notice(await eddie.get(response.headers["location"])) == "The changes are saved and sent to your followers."
    assert (await only_event(a)).start_time.hour == 19  # type: ignore[union-attr]
    await net.settle()
    assert [u["object"]["type"] for u in peer.received("Update")] == ["Event"]
    # Mastodon ignores Event updates: a reply says what changed.
    assert any(c["object"].get("inReplyTo") == row.uri for c in peer.received("Create"))


async def test_a_mistake_while_editing_keeps_the_call_as_it_was(a: Instance, eddie: Browser) -> None:
    await eddie.submit(NEW, NEW, CALL)
    row = await only_event(a)
    edit = f"/manage/tenants/calls/{key_of(row)}/edit"

    response = await eddie.submit(edit, edit, {**CALL, "title": "", "place_name": "Somewhere else"})

    assert response.status_code == 400
    assert field_error(response, "call-title")
    assert (await only_event(a)).location_name == "City Hall steps"


async def test_cancelling_a_call_keeps_it_visible_and_marked_cancelled(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await eddie.submit(NEW, NEW, CALL)
    row = await only_event(a)
    edit = f"/manage/tenants/calls/{key_of(row)}/edit"

    response = await eddie.submit(edit, f"/manage/tenants/calls/{key_of(row)}/cancel", {"reason": "Storm warning"})

    assert response.status_code == 303
    overview = await eddie.get(response.headers["location"])
    assert notice(overview) == "The call to action is cancelled. It stays visible, marked as cancelled."
    assert "Cancelled" in overview.text
    assert (await only_event(a)).event_status == "CANCELLED"
    assert "Cancel the call to action" not in (await eddie.get(edit)).text  # nothing left to cancel
    await net.settle()
    [update] = peer.received("Update")
    assert update["object"]["status"] == "CANCELLED"  # ical:status, as Mobilizon and Gancio read it


async def test_deleting_a_call_needs_the_confirmation_box(a: Instance, eddie: Browser) -> None:
    await eddie.submit(NEW, NEW, CALL)
    row = await only_event(a)
    edit = f"/manage/tenants/calls/{key_of(row)}/edit"
    delete = f"/manage/tenants/calls/{key_of(row)}/delete"

    unconfirmed = await eddie.submit(edit, delete, {})
    assert unconfirmed.status_code == 400
    assert field_error(unconfirmed, "delete-confirm") == "Error: tick the box to confirm"
    assert await count_rows(a, StoredObject, StoredObject.deleted_at.is_(None)) == 1

    confirmed = await eddie.submit(edit, delete, {"confirm": "on"})
    assert confirmed.status_code == 303
    assert await count_rows(a, StoredObject, StoredObject.deleted_at.is_(None)) == 0
    assert (await eddie.get(edit)).status_code == 404


async def test_an_unknown_call_is_not_found(eddie: Browser) -> None:
    assert (await eddie.get("/manage/tenants/calls/not-a-uuid/edit")).status_code == 404
    assert (await eddie.get("/manage/tenants/calls/6f1c8a4e-8d1e-4a8e-9a51-1d2b3c4d5e6f/edit")).status_code == 404


async def test_a_call_in_a_zone_alias_keeps_its_zone_when_edited(a: Instance, eddie: Browser) -> None:
    # The CLI accepts any tz database name, aliases included; the form must not silently swap it.
    start = datetime(2031, 5, 1, 17, tzinfo=UTC)
    row = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Assembly", description="", start=start, end=None, timezone="US/Pacific", place_name="Library",
    ))

    form = await eddie.get(f"/manage/tenants/calls/{key_of(row)}/edit")

    assert '<option value="US/Pacific" selected>' in form.text
