"""Shared steps of the organizer-page tests (tests/integration/test_manage_*.py), on top of organizers.py."""

from __future__ import annotations

import html
import re

import httpx

from fedihub.storage.models import Actor
from tests.integration.organizers import Browser, add_member, make_account
from tests.support.network import Instance


async def organizer(instance: Instance, username: str, coalition: Actor | None = None, role: str = "editor",
                    *, is_admin: bool = False) -> Browser:
    """A logged-in browser of a new account with ``role`` in ``coalition``; the caller closes it."""
    account = await make_account(instance, username, is_admin=is_admin)
    if coalition is not None:
        await add_member(instance, account, coalition, role)
    browser = Browser(instance)
    response = await browser.log_in(username)
    assert response.status_code == 303, response.text[:300]
    return browser


def field_error(page: httpx.Response, field_id: str) -> str | None:
    """The error shown right next to the field with this id (None when the field has none)."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page.text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def notice(page: httpx.Response) -> str | None:
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', page.text, re.S)
    return html.unescape(found.group(1)).strip() if found else None
