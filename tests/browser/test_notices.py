"""What's new in a real browser: the unread count on the dashboard and in the organizer menu, the list, read."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot
from tests.support.browser_steps import create_coalition_as_admin
from tests.support.processes import wait_for

PASSWORD = "correct horse battery staple"


async def test_an_organizer_sees_a_pledge_under_whats_new_and_it_counts_as_read(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    page = await first_admin(browser, server, "ada", PASSWORD)
    await create_coalition_as_admin(page, server.base_url)

    # Another coalition on the same server pledges to the union's call.
    server.fedihub("coalition", "create", "renters", "--name", "Oak Park Renters")
    call = server.fedihub(
        "call", "create", "tenants", "--title", "Day of action for rent control", "--start", "2030-05-01T12:00",
        "--timezone", "America/Chicago", "--place", "City Hall",
    ).strip().splitlines()[-1]
    server.fedihub("pledge", "renters", call, "--message", "We will be there")
    await wait_for(lambda: bool(server.query("SELECT 1 FROM notices WHERE kind = 'pledge'")),
                   what="the pledge's notice", timeout=30, watch=[server.process])

    await page.goto(server.base_url + "/dashboard")
    card = page.locator(".card", has_text="Tenants Union")
    assert (await card.locator(".count-badge").inner_text()).startswith("1")
    await card.get_by_role("link", name="What's new").click()
    await page.wait_for_load_state()
    await screenshot(page, "notices-list")

    item = page.locator(".news-item").first
    assert "Oak Park Renters pledged to Day of action for rent control." in await item.inner_text()
    assert await item.evaluate("node => node.classList.contains('is-unread')")
    assert await page.get_by_role("link", name="Day of action for rent control").count() == 1
    # The list counts as read now: the menu on every organizer page shows no count any more.
    await page.get_by_role("link", name="Overview").click()
    await page.wait_for_load_state()
    assert await page.locator(".manage-nav .count-badge").count() == 0
    await page.goto(server.base_url + "/manage/tenants/news")
    assert not await page.locator(".news-item").first.evaluate("node => node.classList.contains('is-unread')")

    # At phone width the list is still readable: no sideways scrolling.
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await screenshot(page, "notices-list-phone")
