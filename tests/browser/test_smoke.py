"""The public pages open in a real browser, look like fedihub and keep the keyboard usable."""

from __future__ import annotations

from tests.browser.conftest import LiveServer, screenshot


async def test_home_page_renders_in_chromium(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    response = await page.goto(live_server.base_url + "/")
    assert response is not None and response.status == 200
    assert "fedihub" in await page.title()
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement && document.activeElement.textContent")
    assert focused and "Skip" in focused
    await screenshot(page, "home-empty")
