"""Hubs and pledges in a real browser: a state hub on its own server takes a city coalition as a member,
an organizer pledges to the coalition's call with a local action, and the roll-up shows on the call page
and on the hub's page on the other server."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot
from tests.support.processes import wait_for

PASSWORD = "correct horse battery staple"


async def test_a_hub_takes_a_member_and_a_pledge_rolls_up(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    # The hub's boost of the call is itself a change of the call's roll-up told to its audience, so the
    # pledge that follows within the notice window folds into the notice that ends it (pledges/notices.py):
    # a window of seconds instead of the minute keeps the wait short and still goes through the fold.
    city = await start_server("127.0.0.2", pledge_notice_window_seconds="3")
    state = await start_server("127.0.0.3")
    city.fedihub("coalition", "create", "tenants", "--name", "Chicago Tenants Union")
    city.fedihub("coalition", "create", "renters", "--name", "Springfield Renters")

    # The state server's admin creates a hub and adds the Chicago coalition as a member.
    hub_admin = await first_admin(browser, state, "hana", PASSWORD)
    await hub_admin.goto(state.base_url + "/admin")
    await hub_admin.fill("#hub-handle", "illinois")
    await hub_admin.fill("#hub-name", "Illinois Hub")
    await hub_admin.select_option("#hub-scope", "state")
    await hub_admin.fill("#hub-region", "Illinois")
    await hub_admin.get_by_role("button", name="Create the hub").click()
    await hub_admin.wait_for_load_state()
    await hub_admin.goto(state.base_url + "/manage/illinois/roster")
    await hub_admin.fill("#add-targets", f"tenants@{city.host}")
    await hub_admin.get_by_role("button", name="Ask them to join").click()
    await hub_admin.wait_for_load_state()
    await wait_for(
        lambda: bool(state.query("SELECT 1 FROM follows WHERE state = 'accepted'")),
        what="the member to accept the hub's follow", timeout=30, watch=[city.process, state.process],
    )
    await hub_admin.goto(state.base_url + "/manage/illinois/roster")
    assert "Chicago Tenants Union" in await hub_admin.inner_text("main")
    await screenshot(hub_admin, "20-hub-members")
    # Chicago follows its hub back: the organizers' own word that the hub carries their calls.
    city.fedihub("follow", "tenants", f"illinois@{state.host}")
    await wait_for(
        lambda: len(city.query("SELECT 1 FROM follows WHERE state = 'accepted'")) == 2,
        what="the hub to accept Chicago's follow", timeout=30, watch=[city.process, state.process],
    )

    # Chicago calls a day of action; the hub boosts it.
    call_url = city.fedihub(
        "call", "create", "tenants", "--title", "Day of action for rent control", "--start", "2030-05-01T12:00",
        "--end", "2030-05-01T15:00", "--timezone", "America/Chicago", "--place", "Daley Plaza",
    ).strip()
    await wait_for(lambda: bool(state.query("SELECT 1 FROM boosts")), what="the hub to boost the call",
                   timeout=30, watch=[city.process, state.process])

    # An organizer of Springfield Renters pledges from the call page, with a local action.
    organizer = await first_admin(browser, city, "olga", PASSWORD)
    await organizer.goto(call_url)
    assert "No coalition has pledged yet" in await organizer.inner_text("#pledges")
    await organizer.get_by_role("link", name="Pledge Springfield Renters").click()
    await organizer.wait_for_load_state()
    await organizer.fill("#pledge-message", "Forty of us, with banners")
    await organizer.fill("#pledge-action_title", "Springfield rally")
    await organizer.fill("#pledge-action_start", "2030-05-01T13:00")
    await organizer.select_option("#pledge-action_timezone", "America/Chicago")
    await organizer.fill("#pledge-action_place", "State Capitol, north steps")
    await screenshot(organizer, "21-pledge-form")
    await organizer.get_by_role("button", name="Pledge").click()
    await organizer.wait_for_load_state()
    await wait_for(
        lambda: bool(city.query("SELECT 1 FROM pledges WHERE state = 'accepted'")),
        what="the pledge to be accepted", timeout=30, watch=[city.process],
    )
    # The call page lists the hubs the city's last vouch check found carrying the call: a job the hub's
    # Announce queues, which may still be running when the pledge is accepted.
    await wait_for(
        lambda: bool(city.query("SELECT 1 FROM objects WHERE type = 'Event' AND pledge_carriers LIKE '%illinois%'")),
        what="the city's vouch check to find the hub carrying the call", timeout=30,
        watch=[city.process, state.process],
    )
    await organizer.goto(call_url)
    section = await organizer.inner_text("#pledges")
    assert "Springfield rally" in section and "Forty of us, with banners" in section
    assert await organizer.locator('[data-rollup="pledged"]').inner_text() == "1"
    assert "Illinois Hub" in section  # the hub that carries the call
    await screenshot(organizer, "22-call-rollup")

    # The hub's page on the other server shows the same roll-up for the call it carries.
    await wait_for(
        lambda: bool(state.query("SELECT 1 FROM pledges WHERE state = 'accepted'")),
        what="the roll-up to reach the hub's server", timeout=30, watch=[city.process, state.process],
    )
    visitor = await browser.new_page()
    await visitor.goto(state.base_url + "/g/illinois")
    line = await visitor.locator('[data-rollup="hub-line"]').first.inner_text()
    assert line.startswith("1 coalition pledged") and "1 local action" in line
    await screenshot(visitor, "23-hub-page")
