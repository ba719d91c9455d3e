"""Pages keep their shape: a long word in a title, a phone screen, and a form sent with a mistake."""

from __future__ import annotations

from tests.browser.conftest import first_admin, screenshot
from tests.support.browser_steps import create_coalition_as_admin

PASSWORD = "correct horse battery staple"
LONG_LINK = "https://example.org/" + "very-long-path-" * 10


async def _width(page) -> int:  # type: ignore[no-untyped-def]
    return int(await page.evaluate("document.documentElement.scrollWidth"))


async def test_a_long_word_or_a_phone_screen_never_pushes_links_out_of_view(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    admin = await first_admin(browser, server, "ada", PASSWORD)
    await create_coalition_as_admin(admin, server.base_url)
    server.fedihub(
        "call", "create", "tenants", "--title", f"Read {LONG_LINK} before the meeting",
        "--start", "2027-03-13T11:00", "--timezone", "America/Chicago", "--place", "Union Hall",
    )

    for width in (1280, 390):
        await admin.set_viewport_size({"width": width, "height": 900})
        for path in ("/g/tenants", "/", "/dashboard", "/manage/tenants", "/admin", "/manage/tenants/members"):
            await admin.goto(server.base_url + path)
            assert await _width(admin) <= width, f"{path} is wider than a {width} px screen"
    await screenshot(admin, "page-shapes-manage-phone")

    # On a phone, the links at the end of a table row are on screen, not scrolled out of a table.
    for path, name in (("/manage/tenants", "Edit"), ("/admin", "Manage")):
        await admin.goto(server.base_url + path)
        link = admin.locator("table a", has_text=name).first
        box = await link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, box)


async def test_a_form_sent_with_a_mistake_puts_focus_on_what_went_wrong(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    admin = await first_admin(browser, server, "ada", PASSWORD)
    await admin.goto(server.base_url + "/admin")
    await admin.fill("#coalition-handle", "@@bad")
    await admin.fill("#coalition-name", "Bad")
    await admin.get_by_role("button", name="Create the coalition").click()
    await admin.wait_for_load_state()

    focused = await admin.evaluate("(e => e.getAttribute('role') + ': ' + e.textContent)(document.activeElement)")
    assert focused.startswith("alert: "), focused
    assert await admin.input_value("#coalition-handle") == "@@bad", "what was typed is kept"
