"""Every organizer and admin page on a 390 px phone: nothing scrolls sideways, every action of a table row is on
screen, and each card cell names its column."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot

PASSWORD = "correct horse battery staple"
PHONE = 390
LONG = "Read https://example.org/" + "a-very-long-path-" * 8 + " before the meeting"

ORGANIZER_PAGES = (
    "/dashboard", "/manage/tenants", "/manage/tenants/news", "/manage/tenants/announce", "/manage/tenants/calls/new",
    "/manage/tenants/profile", "/manage/tenants/followers", "/manage/tenants/requests", "/manage/tenants/following",
    "/manage/tenants/hubs", "/manage/tenants/fediverse", "/manage/tenants/deliveries", "/manage/tenants/members",
    "/manage/tenants/moderation", "/manage/bay/roster", "/manage/bay/rules", "/manage/bay/review",
    "/manage/bay/following", "/manage/bay/followers",
)
ADMIN_PAGES = ("/admin", "/admin/site", "/admin/moderation", "/admin/subscriptions", "/admin/import", "/lookup")

# For each table cell holding links or buttons: where its controls are, so none is off screen.
CONTROLS_OUT_OF_VIEW = """(width) => [...document.querySelectorAll('table td a, table td button')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
  .filter(([, box]) => box.left < 0 || box.right > width)
  .map(([text, box]) => `${text} at ${Math.round(box.left)}..${Math.round(box.right)}`)"""
# A cell under a visible column heading (not the first, which is the card's title) shows that heading.
CARD_CELLS_WITHOUT_LABEL = """() => [...document.querySelectorAll('table')].flatMap(table => {
  const heads = [...table.querySelectorAll('thead th')].map(
    th => th.querySelector('.visually-hidden') ? '' : th.textContent.trim());
  return [...table.querySelectorAll('tbody tr')].flatMap(row => [...row.children].slice(1)
    .filter((cell, i) => heads[i + 1] && cell.textContent.trim() && !cell.dataset.label
      && !cell.hasAttribute('colspan'))
    .map(cell => cell.textContent.trim()));
})"""


async def test_every_organizer_and_admin_page_fits_a_phone_with_its_actions_in_view(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    admin = await first_admin(browser, server, "ada", PASSWORD)
    server.fedihub("coalition", "create", "tenants", "--name", "Tenants Union", "--owner", "ada")
    server.fedihub("coalition", "create", "neighbours", "--name", "Neighbours", "--owner", "ada")
    server.fedihub("hub", "create", "bay", "--name", "Bay Area Hub", "--scope", "regional", "--owner", "ada")
    server.fedihub(
        "call", "create", "tenants", "--title", LONG, "--start", "2031-03-13T11:00",
        "--timezone", "America/Chicago", "--place", "Union Hall",
    )
    # Rows in the tables: a follower and a followed coalition, a hub member, a blocked server.
    server.fedihub("follow", "neighbours", f"tenants@{server.host}")
    server.fedihub("follow", "tenants", f"bay@{server.host}")
    server.fedihub("hub", "add-member", "bay", f"tenants@{server.host}")
    server.fedihub("block", "spam.example")
    [(key,)] = server.query("SELECT uri FROM objects WHERE type = 'Event'")
    pages = (*ORGANIZER_PAGES, f"/manage/tenants/calls/{key.rsplit('/', 1)[-1]}/edit", *ADMIN_PAGES)

    await admin.set_viewport_size({"width": PHONE, "height": 844})
    problems: list[str] = []
    for path in pages:
        response = await admin.goto(server.base_url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        width = await admin.evaluate("document.scrollingElement.scrollWidth")
        if width > PHONE:
            problems.append(f"{path} is {width} px wide")
        for control in await admin.evaluate(CONTROLS_OUT_OF_VIEW, PHONE):
            problems.append(f"{path}: {control}")
        for cell in await admin.evaluate(CARD_CELLS_WITHOUT_LABEL):
            problems.append(f"{path}: the cell {cell[:40]!r} does not name its column")
        await screenshot(admin, "phone" + path.replace("/", "-").replace("?", "-"))
    assert problems == [], "\n".join(problems)

    # The actions people came for are there, on screen, in the cards.
    for path, name in (("/manage/tenants", "Edit"), ("/admin", "Manage"), ("/manage/tenants/followers", "Remove"),
                       ("/manage/bay/roster", "Pause")):
        await admin.goto(server.base_url + path)
        control = admin.locator("table td", has_text=name).locator("a, button", has_text=name).first
        assert await control.is_visible(), (path, name)
        box = await control.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE, (path, name, box)
