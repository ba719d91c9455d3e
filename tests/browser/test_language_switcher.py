"""The language switcher in real Chromium: the browser's language first, then a plain link that works
without JavaScript and is remembered over the browser's language, also on a phone."""

from __future__ import annotations

from tests.browser.conftest import screenshot


async def test_the_switcher_changes_the_language_and_remembers_it(start_server, browser) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    server.fedihub("coalition", "create", "tenants", "--name", "Sindicato de Inquilinas")
    server.fedihub(
        "call", "create", "tenants", "--title", "Asamblea por la vivienda",
        "--start", "2030-03-16T11:00", "--timezone", "Europe/Madrid", "--place", "Plaza Mayor",
    )
    # No JavaScript at all: the switcher is links and a cookie.
    context = await browser.new_context(locale="es-ES", java_script_enabled=False,
                                        viewport={"width": 390, "height": 844})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        await page.goto(server.base_url + "/")
        assert await page.get_attribute("html", "lang") == "es"
        assert await page.get_by_role("heading", name="Próximas convocatorias").is_visible()
        assert await page.get_by_text("sábado, 16 de marzo de 2030").first.is_visible()
        switcher = page.get_by_role("navigation", name="Idioma")
        assert await switcher.get_by_role("link", name="Français").is_visible()
        await screenshot(page, "language-switcher-es-phone")

        await switcher.get_by_role("link", name="Français").click()
        await page.wait_for_load_state()
        assert page.url == server.base_url + "/"  # back on the page it was chosen from
        assert await page.get_attribute("html", "lang") == "fr"
        assert await page.get_by_role("heading", name="Appels à l’action à venir").is_visible()
        assert await page.get_by_text("samedi 16 mars 2030").first.is_visible()
        assert await page.get_by_role("navigation", name="Langue").get_by_role("link", name="Français").get_attribute(
            "aria-current") == "true"
        assert int(await page.evaluate("document.documentElement.scrollWidth")) <= 390
        await screenshot(page, "language-switcher-fr-phone")

        # The choice outlives the page and wins over the browser's Spanish.
        await page.goto(server.base_url + "/directory")
        assert await page.get_attribute("html", "lang") == "fr"
        assert await page.get_by_role("link", name="Annuaire").is_visible()
    finally:
        await context.close()
