"""Attacks on organizer logins: a session cookie captured before logout, and a stranger's wrong
passwords trying to lock the owner out of their account."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.helpers import BROWSER
from tests.integration.organizers import PASSWORD, Browser, browsers, cheap_password_hashing, make_account
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below


async def from_address(browser: Browser, address: str) -> Browser:
    """A fresh browser whose requests come from ``address`` (the client address the server sees)."""
    await browser.client.aclose()
    browser.client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=browser.instance.app, client=(address, 40_000)),
        base_url=browser.instance.base_url, headers={"accept": BROWSER},
    )
    return browser


async def test_a_session_cookie_captured_before_logout_does_not_work_after_it(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    owner = await browsers(a)
    assert (await owner.log_in("rosa")).status_code == 303
    thief = await browsers(a)
    thief.client.cookies.set("fedihub_session", owner.client.cookies["fedihub_session"], domain="a.test")
    assert (await thief.get("/admin")).status_code == 200  # the stolen cookie works while the owner is in

    assert (await owner.submit("/admin", "/logout")).status_code == 303

    response = await thief.get("/admin")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"
    # Logging in again gives a new cookie that works, and the captured one stays dead.
    assert (await owner.log_in("rosa")).status_code == 303
    assert (await owner.get("/admin")).status_code == 200
    assert (await thief.get("/admin")).status_code == 303


async def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
    a: Instance, browsers, net: FederationNet
) -> None:
    await make_account(a, "rosa", is_admin=True)
    attacker = await from_address(await browsers(a), "203.0.113.66")
    for _ in range(5):
        response = await attacker.submit("/login", "/login", {"username": "rosa", "password": "not the password"})
        assert response.status_code == 400
    blocked = await attacker.submit("/login", "/login", {"username": "rosa", "password": "another guess"})
    assert blocked.status_code == 429  # the attacker is slowed down …

    owner = await from_address(await browsers(a), "198.51.100.7")
    response = await owner.submit("/login", "/login", {"username": "rosa", "password": PASSWORD})

    assert response.status_code == 303  # … and the owner, from their own address, gets in at once
    assert (await owner.get("/admin")).status_code == 200


async def test_many_addresses_guessing_each_get_only_their_own_budget(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    for n in range(3):
        attacker = await from_address(await browsers(a), f"203.0.113.{n + 1}")
        statuses = [
            (await attacker.submit("/login", "/login", {"username": "rosa", "password": f"guess {i}"})).status_code
            for i in range(7)
        ]
        assert statuses == [400] * 5 + [429] * 2
