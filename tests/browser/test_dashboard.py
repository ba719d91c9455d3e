"""The organizer's dashboard in a real browser, on a phone-sized screen and without JavaScript: a call
that a hub on another server carries arrives under "Calls for you", the organizer pledges in place,
and the pledge shows under "Your pledges"."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot
from tests.support.processes import wait_for

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


async def test_a_call_from_the_hub_is_pledged_to_in_place_on_the_dashboard(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    city = await start_server("127.0.0.2")
    state = await start_server("127.0.0.3")
    city.fedihub("coalition", "create", "tenants", "--name", "Chicago Tenants Union")
    city.fedihub("coalition", "create", "renters", "--name", "Springfield Renters")
    state.fedihub("hub", "create", "illinois", "--name", "Illinois Hub", "--scope", "state", "--region", "Illinois")
    both = [city.process, state.process]

    # Both coalitions ask to join the state hub, and its admins approve: each then follows the hub.
    city.fedihub("hub", "join", "tenants", f"illinois@{state.host}")
    city.fedihub("hub", "join", "renters", f"illinois@{state.host}")
    await wait_for(lambda: len(state.query("SELECT 1 FROM hub_requests WHERE state = 'pending'")) == 2,
                   what="both requests to reach the hub", timeout=30, watch=both)
    state.fedihub("hub", "approve", "illinois", f"{city.base_url}/g/tenants")
    state.fedihub("hub", "approve", "illinois", f"{city.base_url}/g/renters")
    await wait_for(
        lambda: len(city.query("SELECT 1 FROM follows WHERE of_hub AND state = 'accepted'")) == 2,
        what="the members to follow their hub", timeout=30, watch=both,
    )

    # Chicago calls a day of action; the hub announces it to its members, Springfield among them.
    call_url = city.fedihub(
        "call", "create", "tenants", "--title", "Day of action for rent control", "--start", "2030-05-01T12:00",
        "--end", "2030-05-01T15:00", "--timezone", "America/Chicago", "--place", "Daley Plaza",
    ).strip()
    await wait_for(lambda: bool(city.query("SELECT 1 FROM reactions WHERE type = 'Announce'")),
                   what="the hub's Announce to come back down", timeout=30, watch=both)

    admin = await first_admin(browser, city, "olga", PASSWORD)
    await admin.context.close()
    # The organizer on a phone, with JavaScript off: the in-place form is a plain <details>.
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    phone = await context.new_page()
    phone.set_default_timeout(15_000)
    await phone.goto(city.base_url + "/login")
    await phone.fill("#login-username", "olga")
    await phone.fill("#login-password", PASSWORD)
    await phone.get_by_role("button", name="Log in").click()
    await phone.wait_for_load_state()
    await phone.goto(city.base_url + "/dashboard")

    springfield = phone.locator("#coalition-renters")
    calls = springfield.locator(".dashboard-calls")
    assert "Day of action for rent control" in await calls.inner_text()
    assert "via Illinois Hub" in await calls.inner_text()
    assert "0 coalitions pledged" in await calls.locator('[data-rollup="dashboard-line"]').inner_text()
    assert "has not pledged to any call yet" in await springfield.inner_text()
    # Chicago's own call is not a call for Chicago.
    chicago = await phone.locator("#coalition-tenants").inner_text()
    assert "No upcoming call has reached Chicago Tenants Union yet" in chicago

    form = springfield.locator('[data-dashboard="pledge"]')
    assert not await form.get_by_label("Title").is_visible()
    await form.locator("summary.button").click()
    await form.get_by_label("Message to the organizers").fill("Forty of us, with banners")
    await form.get_by_label("Title").fill("Springfield rally")
    await form.get_by_label("Starts").fill("2030-05-01T10:00")
    await form.get_by_label("Place").fill("State Capitol, north steps")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "30-dashboard-pledge-in-place")
    await form.get_by_role("button", name="Pledge Springfield Renters").click()
    await phone.wait_for_load_state()
    assert "/dashboard?done=pledged" in phone.url
    assert "Pledge sent." in await phone.inner_text("main")

    await wait_for(lambda: bool(city.query("SELECT 1 FROM pledges WHERE state = 'accepted'")),
                   what="the pledge to be accepted", timeout=30, watch=both)
    await phone.goto(city.base_url + "/dashboard")
    springfield = phone.locator("#coalition-renters")
    mine = await springfield.locator(".dashboard-pledges").inner_text()
    assert "Day of action for rent control" in mine and "Confirmed" in mine
    assert "Your local action: Springfield rally" in mine and "State Capitol, north steps" in mine
    assert "Confirmed · see your pledges" in await springfield.locator(".dashboard-calls").inner_text()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "31-dashboard-your-pledges")
    await phone.goto(call_url)
    assert "Springfield rally" in await phone.inner_text("#pledges")
    await context.close()
