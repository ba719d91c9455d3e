"""Hub pages: admins create hubs, hub admins add members and decide requests, coalitions ask to join and leave."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from fedihub.accounts import service as accounts
from fedihub.coalitions import service
from fedihub.federation.actors import resolve_target
from fedihub.hubs import membership
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, HubRequest
from tests.integration.helpers import AS2, count_rows, followed_by
from tests.integration.manage_helpers import field_error, notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed, read
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def hub(a: Instance) -> Actor:
    return await committed(a.ctx, hubs.create_hub, "bay-hub", name="Bay Area Hub", scope="regional", region="Bay Area")


@pytest.fixture
async def b(net: FederationNet) -> Instance:
    """A second fedihub server, with a climate coalition."""
    instance = await net.add_instance("b.test")
    await committed(instance.ctx, service.create_coalition, "climate", name="Climate Action Now")
    return instance


@pytest.fixture
async def hana(a: Instance, hub: Actor) -> AsyncIterator[Browser]:
    """An admin of the hub."""
    browser = await organizer(a, "hana", hub, "admin")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def ada(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    """An admin of Tenants Union."""
    browser = await organizer(a, "ada", tenants, "admin")
    yield browser
    await browser.client.aclose()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- Creating hubs ----------------------------------------------------------------------------------


async def test_an_instance_admin_creates_a_hub_and_becomes_its_owner(a: Instance) -> None:
    root = await organizer(a, "root", is_admin=True)
    response = await root.submit(
        "/admin", "/admin/hubs",
        {"handle": "Illinois-Hub", "name": "Illinois Hub", "scope": "state", "region": "Illinois"},
    )

    assert response.status_code == 303 and response.headers["location"] == "/manage/illinois-hub/roster"
    page = await root.get("/manage/illinois-hub/roster")
    assert page.status_code == 200 and "<h1>Hub members</h1>" in page.text
    assert 'href="/manage/illinois-hub/rules"' in page.text
    document = (await a.get("/g/illinois-hub", headers={"Accept": AS2})).json()
    assert (document["fedihub:hubScope"], document["fedihub:hubRegion"]) == ("state", "Illinois")
    async with a.ctx.sessions() as session:
        created = await session.scalar(select(Actor).where(Actor.uri == "http://a.test/g/illinois-hub"))
        assert created is not None
        assert [(m.account.username, m.role) for m in await accounts.members_of(session, created.id)] == [
            ("root", "owner")
        ]
    await root.client.aclose()


async def test_the_hub_form_says_what_is_wrong(a: Instance, tenants: Actor) -> None:
    root = await organizer(a, "root", is_admin=True)
    bad_scope = await root.submit("/admin", "/admin/hubs", {"handle": "x-hub", "name": "X", "scope": "galactic"})
    taken = await root.submit("/admin", "/admin/hubs", {"handle": "tenants", "name": "Tenants Hub", "scope": "local"})
    await root.client.aclose()

    assert bad_scope.status_code == 400
    assert "Scope must be one of local, regional" in field_error(bad_scope, "hub-scope")  # type: ignore[operator]
    assert taken.status_code == 409
    assert "already taken" in field_error(taken, "hub-handle")  # type: ignore[operator]
    assert 'id="hub-handle" name="handle" type="text" value="tenants"' in taken.text
    assert 'id="coalition-handle" name="handle" type="text" value=' not in taken.text


# --- A hub's members -------------------------------------------------------------------------------


async def test_a_hub_admin_adds_a_list_and_sees_what_happened_to_each(
    net: FederationNet, a: Instance, b: Instance, hub: Actor, tenants: Actor, hana: Browser
) -> None:
    response = await hana.submit(
        "/manage/bay-hub/roster", "/manage/bay-hub/roster",
        {"targets": "@tenants@a.test\nhttp://b.test/g/climate\n\nnobody@a.test\ntenants@a.test"},
    )

    assert response.status_code == 400
    results = text_of(response.text)
    assert "tenants@a.test: asked to follow tenants@a.test; boosting starts once they accept" in results
    assert "http://b.test/g/climate: asked to follow climate@b.test" in results
    assert "nobody@a.test: no coalition called 'nobody' on this server" in results
    assert re.search(r'<textarea id="add-targets"[^>]*>nobody@a.test</textarea>', response.text)
    assert field_error(response, "add-targets") == "Error: these could not be added; they are still in the box"

    await net.settle()
    page = text_of((await hana.get("/manage/bay-hub/roster")).text)
    assert "Members (2)" in page and "Tenants Union" in page and "Climate Action Now" in page
    assert "Nobody: everyone the hub asked has answered." in page
    public = (await a.get("/g/bay-hub")).text
    assert "Tenants Union" in public and "Climate Action Now" in public

    again = await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster", {"targets": "tenants@a.test"})
    assert again.status_code == 400 and "tenants@a.test is already a member" in text_of(again.text)


async def test_a_hub_admin_removes_a_member(
    net: FederationNet, a: Instance, hub: Actor, tenants: Actor, hana: Browser
) -> None:
    await committed(a.ctx, hubs.add_member, "bay-hub", await resolve_target(a.ctx, "tenants@a.test"))
    await net.settle()

    response = await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster/remove", {"actor": tenants.uri})
    await net.settle()

    assert response.status_code == 303
    page = await hana.get(response.headers["location"])
    assert notice(page) == "Removed from the hub. Its calls are no longer boosted; its server has been told."
    assert "No members yet." in page.text


async def test_join_requests_are_approved_and_refused_from_the_page(
    net: FederationNet, a: Instance, b: Instance, hub: Actor, tenants: Actor, hana: Browser, ada: Browser
) -> None:
    await committed(
        b.ctx, membership.ask_to_join, "climate", await resolve_target(b.ctx, "bay-hub@a.test"),
        "Climate groups of Oakland"
    )
    await committed(a.ctx, membership.ask_to_join, "tenants", await resolve_target(a.ctx, "bay-hub@a.test"))
    await net.settle()

    page = await hana.get("/manage/bay-hub/roster")
    assert "Climate groups of Oakland" in page.text and "@tenants@a.test" in page.text
    approved = await hana.submit(
        "/manage/bay-hub/roster", "/manage/bay-hub/roster/requests/approve", {"actor": "http://b.test/g/climate"}
    )
    refused = await hana.submit(
        "/manage/bay-hub/roster", "/manage/bay-hub/roster/requests/refuse", {"actor": tenants.uri}
    )
    await net.settle()

    assert (approved.status_code, refused.status_code) == (303, 303)
    assert notice(await hana.get(refused.headers["location"])) == "Request refused. They have been told."
    page = text_of((await hana.get("/manage/bay-hub/roster")).text)
    assert "No requests to join are waiting." in page and "Members (1)" in page and "Climate Action Now" in page
    assert "Refused" in text_of((await ada.get("/manage/tenants/hubs")).text)


# --- A coalition's hubs ----------------------------------------------------------------------------


async def test_a_coalition_asks_to_join_then_leaves(
    net: FederationNet, a: Instance, hub: Actor, tenants: Actor, ada: Browser
) -> None:
    await committed(a.ctx, service.create_coalition, "climate", name="Climate Action")
    not_a_hub = await ada.submit("/manage/tenants/hubs", "/manage/tenants/hubs", {"hub": "climate@a.test"})
    assert not_a_hub.status_code == 400
    assert field_error(not_a_hub, "join-hub") == "Error: climate@a.test is not a hub"

    asked = await ada.submit(
        "/manage/tenants/hubs", "/manage/tenants/hubs", {"hub": "@bay-hub@a.test", "message": "Renters of Oakland"}
    )
    assert asked.status_code == 303
    page = await ada.get(asked.headers["location"])
    assert notice(page) == "Request sent. The hub's admins decide; it shows below until they do."
    assert "Waiting for the hub's admins" in text_of(page.text) and "Your message: Renters of Oakland" in page.text

    await net.settle()
    await committed(
        a.ctx, membership.decide_join, "bay-hub", await resolve_target(a.ctx, "tenants@a.test"), approve=True
    )
    await net.settle()
    page = text_of((await ada.get("/manage/tenants/hubs")).text)
    belongs_to = page[page.index("Hubs Tenants Union belongs to"):page.index("Requests to join")]
    assert "Bay Area Hub @bay-hub@a.test regional · Bay Area Leave" in belongs_to

    left = await ada.submit("/manage/tenants/hubs", "/manage/tenants/hubs/leave", {"actor": hub.uri})
    await net.settle()
    assert left.status_code == 303
    page = text_of((await ada.get(left.headers["location"])).text)
    assert "Tenants Union is not a member of any hub yet." in page and "Ended (left or removed)" in page
    assert await read(a.ctx, hubs.list_members, hub.id) == []


# --- Boost rules -----------------------------------------------------------------------------------


async def test_boost_rules_are_saved_and_a_new_scope_reaches_followers(
    net: FederationNet, a: Instance, peer: FakePeer, hub: Actor, hana: Browser
) -> None:
    await followed_by(net, a, peer, hub.uri, peer.accounts["alice"])
    form = await hana.get("/manage/bay-hub/rules")
    assert '<option value="regional" selected>' in form.text and 'value="Bay Area"' in form.text

    saved = await hana.submit("/manage/bay-hub/rules", "/manage/bay-hub/rules", {
        "scope": "state", "region": "California", "movements": ["Tenants"], "tags": "rent control",
        "regions": "California, Nevada", "calls_only": "on",
    })
    await net.settle()

    assert saved.status_code == 303
    assert (notice(await hana.get(saved.headers["location"])) or "").startswith("The boost rules are saved.")
    async with a.ctx.sessions() as session:
        stored = await session.get(Actor, hub.id)
        assert stored is not None
        hub_row = stored.hub_settings
        assert hub_row is not None
        rules = (hub_row.scope, hub_row.region, hub_row.movements, hub_row.regions, hub_row.calls_only)
        assert rules == ("state", "California", ["Tenants", "RentControl"], ["California", "Nevada"], True)
    [update] = peer.received("Update")
    assert update["object"]["fedihub:hubScope"] == "state"

    bad = await hana.submit("/manage/bay-hub/rules", "/manage/bay-hub/rules", {"scope": "galactic"})
    assert bad.status_code == 400
    assert (field_error(bad, "rules-scope") or "").startswith("Error: scope must be one of")


# --- Who may do what -------------------------------------------------------------------------------


async def test_another_coalitions_editor_gets_403_on_every_hub_page(
    a: Instance, hub: Actor, tenants: Actor
) -> None:
    otto = await organizer(a, "otto", tenants, "editor")
    token = otto.session_csrf_token()
    for path in ("/manage/bay-hub/roster", "/manage/bay-hub/rules", "/manage/bay-hub/hubs"):
        assert (await otto.get(path)).status_code == 403, path
    for path in ("/manage/bay-hub/roster", "/manage/bay-hub/roster/remove", "/manage/bay-hub/roster/requests/approve",
                 "/manage/bay-hub/rules", "/manage/bay-hub/hubs", "/manage/bay-hub/hubs/leave"):
        response = await otto.post(path, {"csrf_token": token, "targets": "tenants@a.test", "scope": "local"})
        assert response.status_code == 403, path
    await otto.client.aclose()
    assert await read(a.ctx, hubs.list_members, hub.id) == [] and await count_rows(a, HubRequest) == 0


async def test_a_hub_editor_sees_the_members_but_decides_nothing(a: Instance, hub: Actor) -> None:
    eddie = await organizer(a, "eddie", hub, "editor")
    page = await eddie.get("/manage/bay-hub/roster")
    token = eddie.session_csrf_token()
    added = await eddie.post("/manage/bay-hub/roster", {"csrf_token": token, "targets": "tenants@a.test"})
    rules = await eddie.get("/manage/bay-hub/rules")
    await eddie.client.aclose()

    assert page.status_code == 200 and "Add members" not in page.text
    assert 'href="/manage/bay-hub/rules"' not in page.text
    assert (added.status_code, rules.status_code) == (403, 403)


async def test_hub_pages_belong_to_hubs_and_the_menu_says_so(hub: Actor, tenants: Actor, ada: Browser) -> None:
    overview = (await ada.get("/manage/tenants")).text

    assert 'href="/manage/tenants/hubs"' in overview
    assert 'href="/manage/tenants/roster"' not in overview and 'href="/manage/tenants/rules"' not in overview
    assert (await ada.get("/manage/tenants/roster")).status_code == 404
    assert (await ada.get("/manage/tenants/rules")).status_code == 404
