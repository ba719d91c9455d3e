"""What an organizer does, in a real browser: set up, create a coalition, invite, post, edit, cancel, approve.

Two real servers run: the one organizers use, and a second one whose coalition follows the first,
so the test also sees the call to action arrive over the network as an Event, then its edit and
its cancellation.
"""

from __future__ import annotations

import json

from tests.browser.conftest import LiveServer, screenshot
from tests.support.browser_steps import create_coalition_as_admin
from tests.support.processes import wait_for

PASSWORD = "correct horse battery staple"


async def _create_account(page, form: str, username: str, name: str) -> None:  # type: ignore[no-untyped-def]
    await page.fill(f"#{form}-username", username)
    await page.fill(f"#{form}-display_name", name)
    await page.fill(f"#{form}-password", PASSWORD)
    await page.fill(f"#{form}-password_confirm", PASSWORD)


def _event_row(server: LiveServer, uri: str) -> dict | None:  # type: ignore[type-arg]
    rows = server.query(
        "SELECT name, location_name, event_status, start_time, timezone, data FROM objects WHERE uri = ?", uri
    )
    if not rows:
        return None
    name, place, status, start, zone, data = rows[0]
    return {"name": name, "place": place, "status": status, "start": start, "timezone": zone,
            "data": json.loads(data)}


async def test_an_organizer_runs_a_call_to_action_from_the_browser(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    city = await start_server("127.0.0.2")
    elsewhere = await start_server("127.0.0.3")
    admin_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    admin = await admin_context.new_page()
    admin.set_default_timeout(15_000)

    # First run: the link the server printed creates the instance admin.
    await admin.goto(city.setup_link())
    await screenshot(admin, "01-first-run-setup")
    await _create_account(admin, "setup", "ada", "Ada Organizer")
    await admin.get_by_role("button", name="Create the account and log in").click()
    await admin.wait_for_load_state()
    assert await admin.get_by_role("button", name="Log out").count() == 1

    # The admin creates a coalition and becomes its owner.
    await create_coalition_as_admin(admin, city.base_url)
    await screenshot(admin, "02-admin")
    assert "tenants" in (await admin.goto(city.base_url + "/dashboard") and await admin.content())

    # A coalition on another server follows it (accepted at once: no approval needed yet).
    elsewhere.fedihub("coalition", "create", "climate", "--name", "Climate Coalition")
    elsewhere.fedihub("follow", "climate", f"tenants@{city.host}")
    await wait_for(
        lambda: bool(elsewhere.query("SELECT 1 FROM follows WHERE state = 'accepted'")),
        what="the other server's follow to be accepted", timeout=30, watch=[city.process, elsewhere.process],
    )

    # The owner invites an organizer as editor; she accepts in her own browser.
    await admin.goto(city.base_url + "/manage/tenants/members")
    await admin.select_option("#invite-role", "editor")
    await admin.get_by_role("button", name="Make an invite link").click()
    await admin.wait_for_load_state()
    invite_link = await admin.input_value("#invite-link-copy")
    await screenshot(admin, "03-members-invite")

    organizer_context = await browser.new_context(viewport={"width": 390, "height": 844})
    organizer = await organizer_context.new_page()
    organizer.set_default_timeout(15_000)
    await organizer.goto(invite_link)
    await _create_account(organizer, "invite", "bea", "Bea Editor")
    await organizer.get_by_role("button", name="Create my account and join").click()
    await organizer.wait_for_load_state()

    # She posts a call to action.
    await organizer.goto(city.base_url + "/manage/tenants/calls/new")
    await organizer.fill("#call-title", "Rent strike rally")
    await organizer.fill("#call-description", "Bring **signs**. We march to the landlord's office at noon.")
    await organizer.fill("#call-start", "2027-03-13T11:00")
    await organizer.fill("#call-end", "2027-03-13T14:00")
    await organizer.select_option("#call-timezone", "America/Los_Angeles")
    await organizer.fill("#call-place_name", "City Hall steps")
    await organizer.fill("#call-address", "1 Dr Carlton B Goodlett Pl, San Francisco")
    await screenshot(organizer, "04-new-call-form-phone")
    await organizer.get_by_role("button", name="Publish the call to action").click()
    await organizer.wait_for_load_state()

    # It is on the public pages.
    visitor = await browser.new_page()
    await visitor.goto(city.base_url + "/g/tenants")
    await visitor.get_by_role("link", name="Rent strike rally").first.click()
    await visitor.wait_for_load_state()
    call_url = visitor.url
    page_text = await visitor.inner_text("main")
    assert "Rent strike rally" in page_text and "City Hall steps" in page_text
    assert "11:00" in page_text
    assert await visitor.locator('a[href*="openstreetmap.org"]').count() >= 1
    assert await visitor.locator('a[href$=".ics"]').count() >= 1
    await screenshot(visitor, "05-call-page")

    # …and it reached the follower's server as an Event with its time zone and place.
    await wait_for(lambda: _event_row(elsewhere, call_url) is not None, what="the Event to arrive", timeout=30,
                   watch=[city.process, elsewhere.process])
    received = _event_row(elsewhere, call_url)
    assert received is not None
    assert received["data"]["type"] == "Event"
    assert received["timezone"] == "America/Los_Angeles" and received["place"] == "City Hall steps"
    assert received["data"]["startTime"].startswith("2027-03-13T11:00:00-08:00")

    # She moves it to another place; the public page and the follower's copy follow.
    call_key = call_url.rstrip("/").rsplit("/", 1)[1]
    await organizer.goto(f"{city.base_url}/manage/tenants/calls/{call_key}/edit")
    await organizer.fill("#call-place_name", "Dolores Park")
    await organizer.get_by_role("button", name="Save the changes").click()
    await organizer.wait_for_load_state()
    await visitor.goto(call_url)
    assert "Dolores Park" in await visitor.inner_text("main")
    await wait_for(lambda: (_event_row(elsewhere, call_url) or {}).get("place") == "Dolores Park",
                   what="the edit to arrive", timeout=30, watch=[city.process, elsewhere.process])

    # Then cancels it: it stays visible, marked cancelled, here and there.
    await organizer.goto(f"{city.base_url}/manage/tenants/calls/{call_key}/edit")
    organizer.once("dialog", lambda dialog: dialog.accept())
    await organizer.get_by_role("button", name="Cancel the call to action").click()
    await organizer.wait_for_load_state()
    await visitor.goto(call_url)
    assert "cancelled" in (await visitor.inner_text("main")).lower()
    await screenshot(visitor, "06-call-cancelled")
    await wait_for(lambda: (_event_row(elsewhere, call_url) or {}).get("status") == "CANCELLED",
                   what="the cancellation to arrive", timeout=30, watch=[city.process, elsewhere.process])

    # The owner switches on approval; a new follow request waits until she approves it.
    await admin.goto(city.base_url + "/manage/tenants/profile")
    await admin.check("#profile-manually_approves_followers")
    await admin.get_by_role("button", name="Save").first.click()
    await admin.wait_for_load_state()
    city.fedihub("coalition", "create", "neighbours", "--name", "Neighbours Network")
    city.fedihub("follow", "neighbours", f"tenants@{city.host}")
    await wait_for(lambda: bool(city.query("SELECT 1 FROM follows WHERE state = 'pending'")),
                   what="the follow request to wait for approval", timeout=30, watch=[city.process])
    await admin.goto(city.base_url + "/manage/tenants/requests")
    await screenshot(admin, "07-follow-requests")
    await admin.get_by_role("button", name="Approve").first.click()
    await admin.wait_for_load_state()
    await wait_for(lambda: not city.query("SELECT 1 FROM follows WHERE state = 'pending'"),
                   what="the request to be approved", timeout=30, watch=[city.process])
    await admin.goto(city.base_url + "/manage/tenants/followers")
    assert "neighbours" in await admin.inner_text("main")
    await screenshot(admin, "08-followers")
    await admin_context.close()
    await organizer_context.close()
