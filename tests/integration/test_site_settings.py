"""The instance's name and description: set by its admins (page and CLI), shown on the home page, in every
<title> and link preview, in NodeInfo and on the instance actor; the FEDIHUB_INSTANCE_NAME setting until then."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from fedihub.storage.models import SiteSettings
from tests.integration.cli_helpers import Home, assert_one_error_line, home, migrated_template  # noqa: F401
from tests.integration.helpers import count_rows
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import PASSWORD, Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.integration.test_accounts import setup_link
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

NAME = "Bay Area Coalitions"
DESCRIPTION = "Tenant unions, climate groups & $15 campaigns of the Bay, in one place."


@pytest.fixture
async def root(a: Instance) -> AsyncIterator[Browser]:
    browser = await organizer(a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


def shown(page: httpx.Response) -> dict[str, str]:
    """What a visitor and a link preview read of the instance on a page."""
    def first(pattern: str) -> str:
        found = re.search(pattern, page.text, re.S)
        return html.unescape(found.group(1)).strip() if found else ""
    return {
        "heading": first(r'<h1 id="hero-title">(.*?)</h1>'),
        "title": first(r"<title>(.*?)</title>"),
        "site_name": first(r'<meta property="og:site_name" content="([^"]*)"'),
        "description": first(r'<meta property="og:description" content="([^"]*)"'),
    }


async def nodeinfo(instance: Instance) -> dict:
    return (await instance.get("/nodeinfo/2.1")).json()["metadata"]


async def test_the_admin_names_the_instance_and_every_page_and_peer_reads_it(a: Instance, root: Browser) -> None:
    before = shown(await a.get("/", headers={"accept": "text/html"}))
    assert before["heading"] == "a.test" and (await nodeinfo(a))["nodeName"] == "a.test"

    saved = await root.submit("/admin/site", "/admin/site", {"name": f"  {NAME} ", "description": DESCRIPTION})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/site?done=saved"

    home_page = shown(await a.get("/", headers={"accept": "text/html"}))
    assert home_page["heading"] == NAME and home_page["title"].startswith(NAME)
    assert home_page["site_name"] == NAME and home_page["description"] == DESCRIPTION
    login = shown(await a.get("/login", headers={"accept": "text/html"}))
    assert login["title"].endswith(f"· {NAME}")
    metadata = await nodeinfo(a)
    assert (metadata["nodeName"], metadata["nodeDescription"]) == (NAME, DESCRIPTION)
    actor = (await a.get("/actor", headers={"accept": "application/activity+json"})).json()
    assert actor["name"] == NAME and "$15 campaigns" in actor["summary"] and "<p>" in actor["summary"]
    form = await root.get(saved.headers["location"])
    assert f'value="{NAME}"' in form.text and "Saved." in form.text


async def test_a_name_too_long_and_an_empty_one_are_refused_with_every_reason(a: Instance, root: Browser) -> None:
    page = await root.submit("/admin/site", "/admin/site", {"name": "", "description": "x" * 501})

    assert page.status_code == 400
    assert field_error(page, "site-name") == "Error: give the instance a name"
    assert field_error(page, "site-description") == "Error: the description has at most 500 characters"
    assert 'href="#site-name"' in page.text and 'href="#site-description"' in page.text
    assert await count_rows(a, SiteSettings) == 0
    assert shown(await a.get("/", headers={"accept": "text/html"}))["heading"] == "a.test"


async def test_only_instance_admins_set_it(a: Instance, tenants) -> None:  # type: ignore[no-untyped-def]
    owner = await organizer(a, "olga", tenants, "owner")
    assert (await owner.get("/admin/site")).status_code == 403
    response = await owner.post("/admin/site", {"csrf_token": owner.session_csrf_token(), "name": "Mine"})
    assert response.status_code == 403 and await count_rows(a, SiteSettings) == 0


async def test_the_setting_names_the_instance_until_an_admin_does(net: FederationNet) -> None:
    a = await net.add_instance("a.test", instance_name="Chicago Coalitions")
    assert shown(await a.get("/", headers={"accept": "text/html"}))["heading"] == "Chicago Coalitions"
    assert (await nodeinfo(a))["nodeName"] == "Chicago Coalitions"


def test_the_cli_sets_and_shows_the_name(home: Home) -> None:  # noqa: F811
    assert "not set here yet" in home.run("site", "show").stdout
    assert_one_error_line(home.run("site", "set"), "nothing to change")
    assert_one_error_line(home.run("site", "set", "--name", "x" * 101), "at most 100 characters")

    made = home.run("site", "set", "--name", NAME, "--description", DESCRIPTION)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == [f"name: {NAME}", f"description: {DESCRIPTION}"]
    renamed = home.run("site", "set", "--name", "Bay Coalitions")
    assert renamed.stdout.splitlines() == ["name: Bay Coalitions", f"description: {DESCRIPTION}"], "kept"


async def test_the_first_administrator_names_the_server_while_creating_their_account(a: Instance) -> None:
    path = (await setup_link(a) or "").removeprefix("http://a.test")
    browser = Browser(a)
    form = await browser.get(path)
    assert 'id="setup-site_name"' in form.text and "Left empty, it is a.test." in form.text

    refused = await browser.submit(path, path, {"username": "x", "password": PASSWORD, "password_confirm": PASSWORD,
                                                "site_name": "y" * 101})
    assert refused.status_code == 400
    assert "at most 100 characters" in (field_error(refused, "setup-site_name") or "")
    assert "2 to 32 characters" in (field_error(refused, "setup-username") or ""), "both at once"

    made = await browser.submit(path, path, {"username": "rosa", "password": PASSWORD, "password_confirm": PASSWORD,
                                             "site_name": NAME})
    assert made.status_code == 303
    assert shown(await a.get("/", headers={"accept": "text/html"}))["heading"] == NAME
    assert (await nodeinfo(a))["nodeName"] == NAME
    second = (await browser.get("/admin")).text
    assert "Name and description" in second
