"""A failed submit shows every error of the form at once, each next to its field and linked from the summary;
handles are typed as people copy them (a leading @) and a wrong one is answered with a valid suggestion."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from fedihub.coalitions import calls, service
from fedihub.storage.models import Account, Actor, Pledge, StoredObject
from tests.integration.helpers import count_rows
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.integration.test_accounts import setup_link
from tests.support.edges import committed, read
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def summary_links(page: httpx.Response) -> dict[str, str]:
    """The error summary's links: the id of the field each one points to → its message."""
    summary = re.search(r'<div class="[^"]*error-summary"[^>]*>(.*?)</div>', page.text, re.S)
    assert summary, "no error summary"
    assert 'role="alert" tabindex="-1" autofocus' in summary.group(0), "the summary takes the focus"
    return {
        target: html.unescape(text).strip()
        for target, text in re.findall(r'<a href="#([^"]+)">([^<]*)</a>', summary.group(1))
    }


def marked_invalid(page: httpx.Response, field_id: str) -> bool:
    tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{re.escape(field_id)}"[^>]*>', page.text)
    return bool(tag) and 'aria-invalid="true"' in tag.group(0) and f"{field_id}-error" in tag.group(0)


@pytest.fixture
async def owner(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "olga", tenants, "owner")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def root(a: Instance) -> AsyncIterator[Browser]:
    browser = await organizer(a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


async def test_a_call_form_with_three_mistakes_shows_all_three(a: Instance, owner: Browser) -> None:
    new = "/manage/tenants/calls/new"
    page = await owner.submit(new, new, {
        "title": "", "description": "", "start": "", "end": "", "timezone": "Europe/Paris",
        "place_name": "City Hall", "latitude": "north", "longitude": "2.35",
    })

    assert page.status_code == 400
    links = summary_links(page)
    assert list(links) == ["call-title", "call-start", "call-latitude"], "in the order of the form"
    for field in ("title", "start", "latitude"):
        assert field_error(page, f"call-{field}") == f"Error: {links[f'call-{field}']}"
        assert marked_invalid(page, f"call-{field}")
    assert not marked_invalid(page, "call-place_name")
    assert 'value="City Hall"' in page.text, "what was typed stays"
    assert await count_rows(a, StoredObject) == 0


async def test_the_profile_form_shows_every_error_and_saves_nothing(a: Instance, owner: Browser) -> None:
    path = "/manage/tenants/profile"
    page = await owner.submit(path, path, {"name": "", "website": "javascript:alert(1)", "latitude": "91",
                                           "longitude": "0"})

    assert page.status_code == 400
    assert set(summary_links(page)) == {"profile-name", "profile-latitude", "profile-website"}
    assert marked_invalid(page, "profile-name") and marked_invalid(page, "profile-website")
    [coalition] = await read(a.ctx, service.list_coalitions)
    assert coalition.name == "Tenants Union"


async def test_the_setup_form_names_every_bad_field_at_once(a: Instance) -> None:
    path = (await setup_link(a) or "").removeprefix("http://a.test")
    browser = Browser(a)

    page = await browser.submit(path, path, {"username": "x", "password": "short", "password_confirm": "other"})

    assert page.status_code == 400
    assert list(summary_links(page)) == ["setup-username", "setup-password", "setup-password_confirm"]
    assert "2 to 32 characters" in (field_error(page, "setup-username") or "")
    assert "at least 10 characters" in (field_error(page, "setup-password") or "")
    assert "not the same" in (field_error(page, "setup-password_confirm") or "")
    assert await count_rows(a, Account) == 0


async def test_a_handle_typed_wrong_gets_a_suggestion_and_the_other_errors_too(a: Instance, root: Browser) -> None:
    page = await root.submit("/admin", "/admin/coalitions", {"handle": "Tenants Union!", "name": ""})

    assert page.status_code == 400
    assert set(summary_links(page)) == {"coalition-handle", "coalition-name"}
    assert "try 'tenants-union'" in (field_error(page, "coalition-handle") or "")
    assert "(an @ in front is left out)" in page.text, "the rules are in the field's hint"
    assert [c.username for c in await read(a.ctx, service.list_coalitions)] == []


async def test_a_handle_copied_with_its_at_sign_makes_the_plain_handle(a: Instance, root: Browser) -> None:
    made = await root.submit("/admin", "/admin/coalitions", {"handle": "@Renters-Union@a.test", "name": "Renters"})
    hub = await root.submit("/admin", "/admin/hubs", {"handle": "@bay-hub", "name": "Bay hub", "scope": "regional"})

    assert made.status_code == 303 and made.headers["location"] == "/manage/renters-union"
    assert hub.status_code == 303 and hub.headers["location"] == "/manage/bay-hub/roster"
    public = await root.get("/g/renters-union", headers={"accept": "text/html"})
    assert "@@" not in public.text


async def test_a_local_action_missing_two_parts_names_both(a: Instance, net: FederationNet, owner: Browser) -> None:
    start = net.clock() + timedelta(days=7)
    await committed(a.ctx, service.create_coalition, "chicago", name="Chicago Workers")
    call = await committed(a.ctx, calls.publish_call, "chicago", calls.CallInput(
        title="March", description="", start=start, end=None, timezone="America/Chicago", place_name="Grant Park",
    ))

    page = await owner.submit(f"/pledge?call={call.uri}", "/pledge", {
        "call": call.uri, "coalition": "tenants", "action_title": "Springfield rally", "action_start": "",
        "action_place": "", "action_timezone": "America/Chicago",
    })

    assert page.status_code == 400
    assert list(summary_links(page)) == ["pledge-action_start", "pledge-action_place"]
    assert await count_rows(a, Pledge) == 0
