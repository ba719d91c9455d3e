"""Accounts as an organizer meets them: first-run setup, log in and out, CSRF, rate limits, invites."""

from __future__ import annotations

import re

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fedihub.accounts import invites, passwords
from fedihub.accounts import service as accounts
from fedihub.app import create_app
from fedihub.coalitions import service
from fedihub.settings import Settings
from fedihub.storage.models import Account, Invite, Membership
from tests.integration.helpers import BROWSER, count_rows
from tests.integration.organizers import (
    PASSWORD,
    add_member,
    browsers,
    cheap_password_hashing,
    make_account,
)
from tests.support.edges import committed, read
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below


async def setup_link(instance: Instance) -> str | None:
    async with instance.ctx.sessions.begin() as session:
        return await invites.find_first_run_link(
            session, base_url=instance.base_url, secret_key="test-secret", now=instance.ctx.clock()
        )


async def invite_link(instance: Instance, coalition_id: int, role: str) -> str:
    async with instance.ctx.sessions.begin() as session:
        _, token = await invites.create_invite(
            session, actor_id=coalition_id, role=role, created_by_id=None, now=instance.ctx.clock()
        )
    return f"/invite/{token}"


def session_cookie(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("fedihub_session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


# --- First run --------------------------------------------------------------------------------


async def test_the_setup_link_creates_the_instance_admin_once(a: Instance, browsers) -> None:
    link = await setup_link(a)
    assert link and link.startswith("http://a.test/setup/")
    assert await setup_link(a) == link, "restarting prints the same unused link again"
    path = link.removeprefix("http://a.test")

    browser = await browsers(a)
    page = await browser.get(path)
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text and '<label for="setup-username">' in page.text
    response = await browser.submit(path, path, {
        "username": "Rosa", "display_name": "Rosa P.", "password": PASSWORD, "password_confirm": PASSWORD,
    })
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    assert (await browser.get("/admin")).status_code == 200, "the new admin is logged in"

    assert (await (await browsers(a)).get(path)).status_code == 410, "the link works once"
    assert await setup_link(a) is None, "with an admin in place, serve prints no link"
    async with a.ctx.sessions() as session:
        admin = await accounts.find_account_by_username(session, "rosa")
    assert admin is not None and admin.is_admin and admin.display_name == "Rosa P."
    assert admin.password_hash.startswith("$argon2id$")


async def test_setup_form_explains_bad_input_next_to_the_field(a: Instance, browsers) -> None:
    path = (await setup_link(a) or "").removeprefix("http://a.test")
    browser = await browsers(a)
    cases = [
        ({"username": "x", "password": PASSWORD, "password_confirm": PASSWORD}, "username", "2 to 32 characters"),
        ({"username": "rosa", "password": "short", "password_confirm": "short"}, "password", "at least 10 characters"),
        (
            {"username": "rosa", "password": PASSWORD, "password_confirm": PASSWORD + "!"},
            "password_confirm", "not the same",
        ),
    ]
    for data, field, message in cases:
        response = await browser.submit(path, path, data)
        assert response.status_code == 400
        error = re.search(rf'<p class="field-error" id="setup-{field}-error">([^<]*)</p>', response.text)
        assert error and message in error.group(1), (field, response.text)
        assert f'aria-describedby="setup-{field}-hint setup-{field}-error"' in response.text or (
            f'aria-describedby="setup-{field}-error"' in response.text
        )
    assert await count_rows(a, Account) == 0
    assert (await browser.get(path)).status_code == 200, "a refused attempt does not use the link up"


# --- Log in and out -------------------------------------------------------------------------


async def test_log_in_and_out(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    page = await browser.get("/login")
    assert 'autocomplete="current-password"' in page.text and '<label for="login-password">' in page.text

    response = await browser.submit("/login", "/login", {"username": "Rosa", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert (await browser.get("/admin")).status_code == 200

    response = await browser.submit("/admin", "/logout")
    assert response.status_code == 303 and response.headers["location"] == "/"
    response = await browser.get("/admin")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"


async def test_login_returns_to_the_page_asked_for_but_never_to_another_site(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    response = await browser.get("/admin")
    assert response.status_code == 303
    login_page = response.headers["location"]
    assert 'name="next" value="/admin"' in (await browser.get(login_page)).text
    response = await browser.submit(login_page, "/login", {"username": "rosa", "password": PASSWORD, "next": "/admin"})
    assert response.headers["location"] == "/admin"

    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        other = await browsers(a)
        response = await other.submit("/login", "/login", {"username": "rosa", "password": PASSWORD, "next": evil})
        assert response.status_code == 303 and response.headers["location"] == "/dashboard", evil


async def test_a_form_posted_after_the_session_ended_leads_back_to_its_page(a: Instance, browsers) -> None:
    browser = await browsers(a)
    token = await browser.csrf_token("/login")
    response = await browser.post(
        "/admin/blocks", {"csrf_token": token, "domain": "spam.example"}, headers={"referer": "http://a.test/admin"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"
    response = await browser.post("/admin/blocks", {"csrf_token": token}, headers={"referer": "https://evil.example/x"})
    assert response.headers["location"] == "/login"


async def test_a_wrong_password_is_refused_with_a_clear_message(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    for username, password in (("rosa", "wrong password!"), ("nobody", PASSWORD)):
        response = await browser.submit("/login", "/login", {"username": username, "password": password})
        assert response.status_code == 400
        assert "Wrong username or password." in response.text
        assert f'value="{username}"' in response.text, "the username stays filled in"
    assert (await browser.get("/admin")).status_code == 303, "still not logged in"


async def test_login_rotates_the_session(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    token_before = await browser.csrf_token("/login")
    await browser.log_in("rosa")
    assert await browser.csrf_token("/admin") != token_before, "nothing from before login survives"


async def test_repeated_failures_are_rate_limited_per_username(a: Instance, browsers, net) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    for _ in range(5):
        response = await browser.submit("/login", "/login", {"username": "rosa", "password": "not the password"})
        assert response.status_code == 400
    response = await browser.submit("/login", "/login", {"username": "rosa", "password": PASSWORD})
    assert response.status_code == 429, "even the right password waits now"
    assert "Too many failed logins: wait 15 minutes" in response.text
    assert (await browser.get("/admin")).status_code == 303

    net.clock.advance(minutes=15, seconds=1)
    response = await browser.submit("/login", "/login", {"username": "rosa", "password": PASSWORD})
    assert response.status_code == 303


async def test_many_failures_from_one_address_are_rate_limited(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    for n in range(20):
        response = await browser.submit("/login", "/login", {"username": f"guess{n}", "password": "not the password"})
        assert response.status_code == 400
    response = await browser.submit("/login", "/login", {"username": "rosa", "password": PASSWORD})
    assert response.status_code == 429


async def test_a_correct_login_clears_the_failures_of_that_username(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    for _ in range(4):
        await browser.submit("/login", "/login", {"username": "rosa", "password": "not the password"})
    assert (await browser.log_in("rosa")).status_code == 303
    await browser.submit("/admin", "/logout")
    for _ in range(4):
        response = await browser.submit("/login", "/login", {"username": "rosa", "password": "not the password"})
        assert response.status_code == 400


async def test_old_password_hashes_are_upgraded_at_login(a: Instance, browsers, monkeypatch) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(passwords, "HASHER", weak)
    await make_account(a, "rosa")
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    monkeypatch.setattr(passwords, "HASHER", stronger)
    browser = await browsers(a)
    assert (await browser.log_in("rosa")).status_code == 303
    async with a.ctx.sessions() as session:
        account = await accounts.find_account_by_username(session, "rosa")
    assert account is not None and "m=128,t=2,p=1" in account.password_hash
    assert (await browser.get("/login")).status_code == 303, "the session survives its own rehash"


# --- CSRF -------------------------------------------------------------------------------------


async def test_forms_without_the_right_csrf_token_are_refused_and_change_nothing(a: Instance, browsers) -> None:
    await make_account(a, "rosa", is_admin=True)
    browser = await browsers(a)
    await browser.log_in("rosa")
    other = await browsers(a)
    foreign_token = await other.csrf_token("/login")
    data = {"handle": "tenants", "name": "Tenants Union"}
    for token in (None, "", "forged", foreign_token):
        form = data if token is None else {**data, "csrf_token": token}
        response = await browser.post("/admin/coalitions", form)
        assert response.status_code == 403, token
        assert "The form expired: reload the page and try again." in response.text
    assert await read(a.ctx, service.list_coalitions) == []

    response = await browser.post("/logout", {"csrf_token": "forged"})
    assert response.status_code == 403
    assert (await browser.get("/admin")).status_code == 200, "a forged logout does not log out"

    response = await browser.post("/login", {"username": "rosa", "password": PASSWORD})
    assert response.status_code == 403, "the login form is protected too (login CSRF)"


async def test_session_cookie_is_secure_on_an_https_instance(database_url: str) -> None:
    settings = Settings(base_url="https://secure.test", database_url=database_url, secret_key="test-secret")
    app = create_app(settings, http_client=httpx.AsyncClient())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://secure.test", headers={"accept": BROWSER}
        ) as client:
            response = await client.get("/login")
    cookie = session_cookie(response).lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


# --- Invites ----------------------------------------------------------------------------------


async def test_an_invite_creates_an_account_in_the_coalition(a: Instance, tenants, browsers) -> None:
    path = await invite_link(a, tenants.id, "editor")
    browser = await browsers(a)
    page = await browser.get(path)
    assert page.status_code == 200
    assert "Tenants Union" in page.text and "editor" in page.text
    response = await browser.submit(path, path, {
        "username": "sam", "password": PASSWORD, "password_confirm": PASSWORD,
    })
    assert response.status_code == 303 and response.headers["location"] == "/manage/tenants"
    async with a.ctx.sessions() as session:
        sam = await accounts.find_account_by_username(session, "sam")
        assert sam is not None and not sam.is_admin
        assert [(c.local_username, role) for c, role in await accounts.coalitions_of(session, sam)] == [
            ("tenants", "editor")
        ]
    assert (await browser.get(path)).status_code == 410, "single use"
    again = await browsers(a)
    response = await again.get(path)
    assert response.status_code == 410 and "already used" in response.text


async def test_a_logged_in_organizer_joins_with_their_account(a: Instance, tenants, browsers) -> None:
    climate = await committed(a.ctx, service.create_coalition, "climate", name="Climate Action")
    sam = await make_account(a, "sam")
    await add_member(a, sam, climate, "owner")
    path = await invite_link(a, tenants.id, "admin")
    browser = await browsers(a, sam)
    page = await browser.get(path)
    assert "Join as sam" in page.text
    response = await browser.submit(path, path)
    assert response.status_code == 303 and response.headers["location"] == "/manage/tenants"
    async with a.ctx.sessions() as session:
        roles = {c.local_username: role for c, role in await accounts.coalitions_of(session, sam)}
    assert roles == {"climate": "owner", "tenants": "admin"}
    assert await count_rows(a, Account) == 1


async def test_an_invite_to_a_taken_username_explains_and_keeps_the_link(a: Instance, tenants, browsers) -> None:
    await make_account(a, "sam")
    path = await invite_link(a, tenants.id, "editor")
    browser = await browsers(a)
    response = await browser.submit(path, path, {"username": "sam", "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 409
    assert re.search(r'id="invite-username-error">The username sam is taken', response.text)
    response = await browser.submit(
        path, path, {"username": "sam2", "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert response.status_code == 303


async def test_expired_and_unknown_invites_are_refused(a: Instance, tenants, browsers, net) -> None:
    path = await invite_link(a, tenants.id, "editor")
    browser = await browsers(a)
    net.clock.advance(days=7, seconds=1)
    response = await browser.get(path)
    assert response.status_code == 410 and "expired" in response.text
    token = await browser.csrf_token("/login")
    response = await browser.post(path, {"csrf_token": token, "username": "sam", "password": PASSWORD,
                                         "password_confirm": PASSWORD})
    assert response.status_code == 410
    assert await count_rows(a, Account) == 0 and await count_rows(a, Membership) == 0

    response = await browser.get("/invite/not-a-real-token")
    assert response.status_code == 404 and "not valid" in response.text


async def test_invite_tokens_are_stored_only_as_hashes(a: Instance, tenants) -> None:
    path = await invite_link(a, tenants.id, "editor")
    token = path.removeprefix("/invite/")
    assert len(token) >= 43
    async with a.ctx.sessions() as session:
        stored = (await session.scalars(select(Invite.token_hash))).all()
    assert token not in stored and invites.hash_token(token) in stored
