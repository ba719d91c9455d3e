"""The lookup page and the import of a list read in the organizer's language: what an actor is, why an
address could not be reached, each row's outcome and reason. The CLI (nothing active) stays English."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedihub.coalitions import service
from fedihub.discovery.lookup import look_up
from fedihub.i18n.languages import COOKIE
from tests.federation.discovery_peers import World, build_world
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def world(net: FederationNet, fixtures_dir: Path) -> World:
    return await build_world(net, fixtures_dir)


@pytest.fixture
async def french_organizer(world: World) -> AsyncIterator[Browser]:
    climate = await committed(world.a.ctx, service.create_coalition, "climate", name="Climate Action")
    browser = await organizer(world.a, "eddie", climate, "editor")
    browser.client.cookies.set(COOKIE, "fr", domain="a.test")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def spanish_admin(world: World) -> AsyncIterator[Browser]:
    browser = await organizer(world.a, "root", is_admin=True)
    browser.client.headers["Accept-Language"] = "es"
    yield browser
    await browser.client.aclose()


async def test_a_french_organizer_reads_what_a_looked_up_account_is_in_french(
    world: World, french_organizer: Browser
) -> None:
    world.masto.accounts["alice"].manually_approves_followers = True

    page = await french_organizer.get("/lookup?q=alice%40masto.test")

    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<dt>Ce que c’est</dt>" in text and "le compte d’une personne" in text
    assert "approuvés un par un par ses organisateurs" in text
    assert "nouveau : ce serveur ne l’avait pas vu avant cette recherche" in text
    # The same lookup outside a request (the CLI) is described in English.
    english = {fact.key: fact.value for fact in (await look_up(world.a.ctx, "alice@masto.test")).facts()}
    assert english["What"] == "a person's account"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("someone@down.test", "impossible de joindre down.test ; réessayez plus tard"),
        ("spam@blocked.test", "ce serveur ne fédère pas avec blocked.test"),
        ("x@127.0.0.1", "127.0.0.1 est dans un réseau privé ; seuls les serveurs publics sont joignables"),
        ("not a handle", "'not a handle' n’est ni un identifiant comme name@example.org ni un lien commençant par "
                         "https://"),
    ],
)
async def test_why_a_lookup_failed_is_said_in_french_next_to_the_field(
    world: World, french_organizer: Browser, target: str, reason: str
) -> None:
    page = await french_organizer.get("/lookup", params={"q": target})

    assert 400 <= page.status_code < 500
    assert reason in (field_error(page, "lookup-q") or "")
    assert world.blocked.requests == []


async def test_an_import_shows_each_outcome_and_reason_in_spanish(world: World, spanish_admin: Browser) -> None:
    rows = "address\ntenants@b.test\nalice@masto.test\nnobody@masto.test\nTENANTS@b.test\n"
    token = await spanish_admin.csrf_token("/admin/import")

    page = await spanish_admin.client.post(
        "/admin/import", data={"csrf_token": token}, files={"file": ("list.csv", rows.encode(), "text/csv")}
    )

    assert page.status_code == 200
    text = html.unescape(page.text)
    # The outcome stays the same key for styling; its name and the reason are the reader's.
    assert 'data-outcome="refused"><span class="status status-cancelled">rechazada</span>' in text
    assert "alice@masto.test es una persona, no una coalición ni un nodo" in text
    assert "masto.test no tiene ninguna cuenta nobody" in text
    assert "la misma dirección que la línea 2" in text
    summary = text.split('id="summary-heading"')[1]
    assert '<div class="rollup-stat" data-outcome="found"><dt>Encontrada</dt><dd>1</dd></div>' in summary
    assert '<div class="rollup-stat" data-outcome="refused"><dt>Rechazada</dt><dd>2</dd></div>' in summary
