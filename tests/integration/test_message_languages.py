"""Texts built in Python read in the reader's language: form errors, notices after an action, delivery
health put in words from an error stored in English; what a peer server reads stays English."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fedihub.coalitions import service
from fedihub.i18n.languages import COOKIE
from fedihub.storage.models import Account, Actor
from tests.integration.helpers import count_rows, followed_by
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.integration.test_accounts import setup_link
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def ada(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "ada", tenants, "admin")
    yield browser
    await browser.client.aclose()


async def test_a_spanish_browser_sees_every_field_error_of_the_setup_form_in_spanish(a: Instance) -> None:
    path = (await setup_link(a) or "").removeprefix("http://a.test")
    browser = Browser(a)
    browser.client.headers["Accept-Language"] = "es-MX,es;q=0.9"

    page = await browser.submit(path, path, {"username": "x", "password": "short", "password_confirm": "other"})

    assert page.status_code == 400
    assert "de 2 a 32 caracteres" in (field_error(page, "setup-username") or "")
    assert "al menos 10 caracteres" in (field_error(page, "setup-password") or "")
    assert field_error(page, "setup-password_confirm") == "Las dos contraseñas no coinciden"
    assert "characters" not in page.text.split("<main", 1)[1]
    assert await count_rows(a, Account) == 0


async def test_the_notice_after_blocking_a_server_follows_the_language_cookie(a: Instance) -> None:
    root = await organizer(a, "root", is_admin=True)
    try:
        root.client.cookies.set(COOKIE, "fr", domain="a.test")
        page = await root.submit("/admin", "/admin/blocks", {"domain": "spam.example", "reason": ""})
        again = await root.submit("/admin", "/admin/blocks", {"domain": "spam.example", "reason": ""})
        wrong = await root.submit("/admin", "/admin/blocks", {"domain": "not a domain", "reason": ""})
    finally:
        await root.client.aclose()

    assert "spam.example est bloqué." in page.text
    assert "spam.example était déjà bloqué." in again.text
    assert wrong.status_code == 400
    assert "n’est pas un nom de domaine" in (field_error(wrong, "block-domain") or "")


async def test_delivery_health_reads_in_spanish_though_the_error_is_stored_in_english(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, ada: Browser, fixtures_dir: Path
) -> None:
    down = add_fake_peer(net, "down.test", fixtures_dir, usernames=("dana",))
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await followed_by(net, a, down, tenants.uri, down.accounts["dana"])
    net.add_handler("down.test", lambda request: httpx.Response(503))

    await committed(a.ctx, service.post_note, "tenants", "Rent strike on Thursday")
    await net.settle()
    spanish = await ada.get("/manage/tenants/deliveries", headers={"Accept-Language": "es"})
    english = await ada.get("/manage/tenants/deliveries")

    rows = {row.split("</th>")[0].rsplit(">", 1)[-1]: row for row in spanish.text.split('<th scope="row">')[1:]}
    assert "Con problemas" in rows["down.test"]
    assert "1 mensaje en espera, se está reintentando." in rows["down.test"]
    assert "Último problema: el servidor tuvo un problema por su parte (código 503)." in rows["down.test"]
    assert "2 mensajes entregados." in rows["masto.test"]
    # The same stored row, read by someone else in English.
    assert "Last problem: the server had a problem on its side (code 503)." in english.text


async def test_a_peer_asking_in_spanish_still_gets_english_webfinger_errors(a: Instance) -> None:
    # A peer server is no reader: the JSON it gets stays English whatever Accept-Language it sends.
    response = await a.get(
        "/.well-known/webfinger", params={"resource": "acct:@@a.test"},
        headers={"Accept": "application/jrd+json", "Accept-Language": "es"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "'acct:@@a.test' is not a handle like name@example.org"
