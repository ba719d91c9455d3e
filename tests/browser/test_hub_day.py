"""The hub page as the day of action, in a real browser: the calls a state hub carries by date, the
local actions pledged to them grouped under each call, the coalitions pledged per state, and the member
tree opened without JavaScript."""

from __future__ import annotations

from urllib.parse import quote

from tests.browser.conftest import first_admin, screenshot
from tests.support.processes import wait_for


async def test_the_hub_page_shows_the_day_of_action(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    for handle, name, state in (("chicago", "Chicago Tenants Union", "Illinois"),
                                ("peoria", "Peoria Fight for 15", "Illinois"),
                                ("madison", "Madison Renters", "Wisconsin")):
        server.fedihub("coalition", "create", handle, "--name", name)
        server.fedihub("coalition", "update", handle, "--region-state", state, "--region-country", "US")
    server.fedihub("hub", "create", "illinois", "--name", "Illinois Hub", "--scope", "state", "--region", "Illinois")
    server.fedihub("hub", "create", "cook", "--name", "Cook County Hub", "--scope", "regional")
    server.fedihub("hub", "add-member", "cook", f"madison@{server.host}")
    # Peoria is a member too: the hub boosts its local action's Event, which must not show as a call.
    server.fedihub("hub", "add-member", "illinois", f"chicago@{server.host}", f"peoria@{server.host}",
                   f"cook@{server.host}")
    await wait_for(
        lambda: len(server.query("SELECT 1 FROM follows WHERE state = 'accepted' AND of_hub = 0")) >= 4,
        what="the members to accept their hubs", timeout=30, watch=[server.process],
    )
    later = server.fedihub(
        "call", "create", "chicago", "--title", "Second national day", "--start", "2030-06-01T12:00",
        "--end", "2030-06-01T15:00", "--timezone", "America/Chicago", "--place", "Daley Plaza",
    ).strip()
    sooner = server.fedihub(
        "call", "create", "chicago", "--title", "National day for rent control", "--start", "2030-05-01T12:00",
        "--end", "2030-05-01T15:00", "--timezone", "America/Chicago", "--place", "Daley Plaza",
        "--address", "50 W Washington St, Chicago",
    ).strip()
    server.fedihub(
        "pledge", "peoria", sooner, "--local-title", "Peoria picket", "--local-start", "2030-05-01T10:00",
        "--local-end", "2030-05-01T11:30", "--local-place", "Courthouse Square", "--local-address", "324 Main St",
        "--local-latitude", "40.6936", "--local-longitude", "-89.589", "--local-online", "https://stream.example/peoria",
    )
    server.fedihub(
        "pledge", "madison", sooner, "--local-title", "Madison march", "--local-start", "2030-05-01T13:00",
        "--local-timezone", "America/Chicago", "--local-place", "State Capitol",
    )
    await wait_for(
        lambda: len(server.query("SELECT 1 FROM pledges WHERE state = 'accepted'")) == 2
        and len(server.query("SELECT 1 FROM boosts")) >= 3,
        what="the pledges to be accepted and the hub to boost", timeout=30, watch=[server.process],
    )

    visitor = await browser.new_page()
    await visitor.goto(server.base_url + "/g/illinois")
    titles = await visitor.locator('[data-hub-day="upcoming"] .call-item-title').all_inner_texts()
    assert titles == ["National day for rent control", "Second national day"], (titles, later)
    main = await visitor.inner_text("main")
    assert "Nothing planned" not in main
    # Only the second call has no pledge yet: no local action is listed as a call "0 coalitions pledged".
    assert main.count("0 coalitions pledged") == 1
    first = visitor.locator('[data-hub-day="call"]').first
    actions = await first.locator('[data-hub-day="action"]').all_inner_texts()
    assert len(actions) == 2 and actions[0].startswith("Peoria picket")
    assert "Courthouse Square, 324 Main St" in actions[0] and "Online link" in actions[0]
    assert "by Peoria Fight for 15" in actions[0]
    regions = await visitor.locator('[data-hub-day="regions"] li').all_inner_texts()
    assert [" ".join(region.split()) for region in regions] == ["Illinois, US 1", "Wisconsin, US 1"]

    # The member tree opens without JavaScript: a <details> per member hub.
    tree = visitor.locator(f'[data-member-tree="cook@{server.host}"]')
    assert not await tree.locator("text=Madison Renters").is_visible()
    await tree.locator("summary").click()
    assert await tree.locator("text=Madison Renters").is_visible()
    await screenshot(visitor, "hub-day-of-action")


async def test_a_local_action_is_typed_with_its_full_shape(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    server.fedihub("coalition", "create", "chicago", "--name", "Chicago Tenants Union")
    server.fedihub("coalition", "create", "peoria", "--name", "Peoria Fight for 15")
    call = server.fedihub(
        "call", "create", "chicago", "--title", "National day for rent control", "--start", "2030-05-01T12:00",
        "--timezone", "America/Chicago", "--place", "Daley Plaza",
    ).strip()
    organizer = await first_admin(browser, server, "olga", "correct horse battery staple")
    await organizer.goto(f"{server.base_url}/pledge?call={quote(call, safe='')}")
    assert not await organizer.locator("#pledge-action_address").is_visible()  # folded until asked for
    await organizer.fill("#pledge-action_title", "Peoria picket")
    await organizer.fill("#pledge-action_start", "2030-05-01T10:00")
    await organizer.fill("#pledge-action_place", "Courthouse Square")
    await organizer.locator('[data-pledge="more-fields"] summary').click()
    await organizer.fill("#pledge-action_end", "2030-05-01T11:30")
    await organizer.fill("#pledge-action_address", "324 Main St, Peoria")
    await organizer.fill("#pledge-action_latitude", "140.69")
    await organizer.fill("#pledge-action_longitude", "-89.589")
    await organizer.get_by_role("button", name="Pledge").click()
    await organizer.wait_for_load_state()

    # The mistake is said next to its field, in the open fold, and what was typed is kept.
    error = organizer.locator("#pledge-action_latitude-error")
    assert await error.is_visible() and "from -90 to 90" in await error.inner_text()
    assert await organizer.input_value("#pledge-action_address") == "324 Main St, Peoria"
    await screenshot(organizer, "pledge-form-local-action-error")
    await organizer.fill("#pledge-action_latitude", "40.69")
    await organizer.get_by_role("button", name="Pledge").click()
    await organizer.wait_for_load_state()
    await wait_for(
        lambda: bool(server.query("SELECT 1 FROM pledges WHERE state = 'accepted' AND action_latitude = 40.69")),
        what="the pledge with its local action to be accepted", timeout=30, watch=[server.process],
    )
    await organizer.goto(call)
    listed = await organizer.locator(".action-list").inner_text()
    assert "Courthouse Square, 324 Main St, Peoria" in listed and "10:00 – 11:30" in listed
