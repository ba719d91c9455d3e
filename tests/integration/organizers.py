"""Helpers for organizer tests: a cookie-keeping browser client, accounts and memberships."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from fedihub.accounts import passwords
from fedihub.accounts import service as accounts
from fedihub.storage.models import Account, Actor
from tests.integration.helpers import BROWSER
from tests.support.network import Instance

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2 with tiny parameters: the real ones cost ~130 ms per hash here, on purpose."""
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)
    yield


class Browser:
    """One person's browser: keeps the session cookie between requests, asks for HTML."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=instance.app), base_url=instance.base_url,
            headers={"accept": BROWSER},
        )

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf_token(self, page: str) -> str:
        """The CSRF token of the form on ``page`` (as a browser gets it by loading the page)."""
        token = await self._form_token(page)
        assert token, f"no form with a CSRF token on {page}"
        return token

    async def _form_token(self, page: str) -> str | None:
        response = await self.client.get(page)
        assert response.status_code == 200, (page, response.status_code, response.text[:300])
        match = CSRF_RE.search(response.text)
        return match.group(1) if match else None

    def session_csrf_token(self) -> str:
        """The token every form of this session carries, read from the (signed, not secret) cookie.

        Lets a test post a well-formed form to a page the person cannot load (to see the 403).
        """
        cookie = self.client.cookies.get("fedihub_session")
        assert cookie, "no session yet"
        payload = cookie.split(".", 1)[0]
        return json.loads(base64.b64decode(payload))["csrf"]

    async def submit(self, page: str, action: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """Load ``page``, then post its form to ``action`` with ``data`` and the page's CSRF token (the
        forms anyone may send have none: forms.read_public_form)."""
        token = await self._form_token(page)
        fields = {**(data or {}), **({"csrf_token": token} if token else {})}
        return await self.post(action, fields, **kwargs)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        # A browser names the page's site on every form post (the public forms refuse other sites).
        headers = {"origin": self.instance.base_url, **kwargs.pop("headers", {})}
        return await self.client.post(path, data=data or {}, headers=headers, **kwargs)

    async def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/login", "/login", {"username": username, "password": password})


async def make_account(
    instance: Instance, username: str, *, password: str = PASSWORD, is_admin: bool = False
) -> Account:
    ctx = instance.ctx
    async with ctx.sessions.begin() as session:
        return await accounts.create_account(session, username, password, now=ctx.clock(), is_admin=is_admin)


async def add_member(instance: Instance, account: Account, coalition: Actor, role: str) -> None:
    ctx = instance.ctx
    async with ctx.sessions.begin() as session:
        await accounts.add_member(session, account.id, coalition.id, role, now=ctx.clock())


@pytest.fixture
async def browsers() -> AsyncIterator[Callable[..., Awaitable[Browser]]]:
    """Opens browsers (logged in as ``account`` when given) and closes them after the test."""
    opened: list[Browser] = []

    async def open_browser(instance: Instance, account: Account | None = None, password: str = PASSWORD) -> Browser:
        browser = Browser(instance)
        opened.append(browser)
        if account is not None:
            response = await browser.log_in(account.username, password)
            assert response.status_code == 303, response.text[:500]
        return browser

    yield open_browser
    for browser in opened:
        await browser.client.aclose()
