"""Who may do what in a coalition, enforced by the server (not by hiding buttons)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from fedihub.accounts import service as accounts
from fedihub.coalitions import service
from fedihub.storage.models import Account, Actor, Invite, Membership
from tests.integration.helpers import count_rows
from tests.integration.organizers import (
    Browser,
    add_member,
    browsers,
    cheap_password_hashing,
    make_account,
)
from tests.support.edges import committed
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below

INVITE_LINK = re.compile(r"http://a\.test/invite/[A-Za-z0-9_-]{43}")


@pytest.fixture
async def climate(a: Instance) -> Actor:
    return await committed(a.ctx, service.create_coalition, "climate", name="Climate Action")


async def member(instance: Instance, username: str, coalition: Actor, role: str) -> Account:
    account = await make_account(instance, username)
    await add_member(instance, account, coalition, role)
    return account


async def invite_as(browser: Browser, handle: str, role: str):  # type: ignore[no-untyped-def]
    page = f"/manage/{handle}/members"
    return await browser.submit(page, f"{page}/invite", {"role": role})


async def roles_in(instance: Instance, coalition: Actor) -> dict[str, str]:
    async with instance.ctx.sessions() as session:
        return {m.account.username: m.role for m in await accounts.members_of(session, coalition.id)}


# --- Another coalition's organizers -----------------------------------------------------------


@pytest.mark.parametrize("role", ["editor", "admin", "owner"])
async def test_another_coalitions_organizer_gets_403_on_members(
    a: Instance, tenants: Actor, climate: Actor, browsers, role: str
) -> None:
    owner = await member(a, "olga", tenants, "owner")
    outsider = await member(a, "xavi", climate, role)
    browser = await browsers(a, outsider)
    token = browser.session_csrf_token()

    assert (await browser.get("/manage/tenants/members")).status_code == 403
    response = await browser.post("/manage/tenants/members/invite", {"csrf_token": token, "role": "editor"})
    assert response.status_code == 403
    response = await browser.post(f"/manage/tenants/members/{owner.id}/remove", {"csrf_token": token})
    assert response.status_code == 403
    assert await count_rows(a, Invite) == 0
    assert await roles_in(a, tenants) == {"olga": "owner"}


async def test_every_manage_page_refuses_another_coalitions_editor(
    a: Instance, tenants: Actor, climate: Actor, browsers
) -> None:
    """Every /manage/<handle>/… route of the app, whoever wrote it, answers 403 to an outsider."""
    await member(a, "olga", tenants, "owner")
    outsider = await member(a, "xavi", climate, "editor")
    browser = await browsers(a, outsider)
    token = browser.session_csrf_token()
    checked = []
    for route in a.app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/manage/{"):
            continue
        # The first parameter is the coalition, whatever its name; the rest get harmless fillers.
        path = re.sub(r"^/manage/\{[a-z_]+(:str)?\}", "/manage/tenants", route.path)
        path = re.sub(r"\{[a-z_]+:int\}", "1", path)
        path = re.sub(r"\{[a-z_]+(:[a-z]+)?\}", "00000000-0000-0000-0000-000000000000", path)
        methods = route.methods or {"GET"}
        if "GET" in methods:
            response = await browser.get(path)
            assert response.status_code == 403, (route.path, "GET", response.status_code)
        if "POST" in methods:
            response = await browser.post(path, {"csrf_token": token})
            assert response.status_code == 403, (route.path, "POST", response.status_code)
        checked.append(route.path)
    assert "/manage/{username:str}/members" in checked
    assert len(checked) > 3, checked
    assert await roles_in(a, tenants) == {"olga": "owner"}


async def test_strangers_are_sent_to_log_in_and_unknown_coalitions_are_404(
    a: Instance, tenants: Actor, browsers
) -> None:
    anonymous = await browsers(a)
    response = await anonymous.get("/manage/tenants/members")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/manage/tenants/members"
    admin = await make_account(a, "root", is_admin=True)
    browser = await browsers(a, admin)
    assert (await browser.get("/manage/nobody/members")).status_code == 404


async def test_an_account_without_membership_gets_403(a: Instance, tenants: Actor, browsers) -> None:
    loner = await make_account(a, "lone")
    browser = await browsers(a, loner)
    response = await browser.get("/manage/tenants/members")
    assert response.status_code == 403 and "not a member of this coalition" in response.text


# --- Roles within the coalition -------------------------------------------------------------


async def test_editors_cannot_manage_members(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    editor = await member(a, "eddy", tenants, "editor")
    browser = await browsers(a, editor)
    token = browser.session_csrf_token()
    assert (await browser.get("/manage/tenants/members")).status_code == 403
    response = await browser.post("/manage/tenants/members/invite", {"csrf_token": token, "role": "editor"})
    assert response.status_code == 403
    response = await browser.post(f"/manage/tenants/members/{owner.id}/remove", {"csrf_token": token})
    assert response.status_code == 403
    assert await count_rows(a, Invite) == 0
    assert await roles_in(a, tenants) == {"olga": "owner", "eddy": "editor"}


async def test_admins_invite_editors_and_admins_but_not_owners(a: Instance, tenants: Actor, browsers) -> None:
    await member(a, "olga", tenants, "owner")
    admin = await member(a, "ada", tenants, "admin")
    browser = await browsers(a, admin)
    page = await browser.get("/manage/tenants/members")
    assert page.status_code == 200
    assert '<option value="owner"' not in page.text, "the form offers only what is allowed …"

    for role in ("editor", "admin"):
        response = await invite_as(browser, "tenants", role)
        assert response.status_code == 200 and INVITE_LINK.search(response.text), role
    response = await invite_as(browser, "tenants", "owner")
    assert response.status_code == 403, "… and the server refuses the rest"
    assert "Only owners can invite owners" in response.text
    assert await count_rows(a, Invite, Invite.role == "owner") == 0
    assert await count_rows(a, Invite) == 2


async def test_owners_invite_owners(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    browser = await browsers(a, owner)
    response = await invite_as(browser, "tenants", "owner")
    assert response.status_code == 200
    link = INVITE_LINK.search(response.text)
    assert link

    newcomer = await browsers(a)
    path = link.group(0).removeprefix("http://a.test")
    response = await newcomer.submit(path, path, {"username": "nina", "password": "another good passphrase",
                                                  "password_confirm": "another good passphrase"})
    assert response.status_code == 303
    assert await roles_in(a, tenants) == {"olga": "owner", "nina": "owner"}


async def test_an_unknown_role_is_refused(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    browser = await browsers(a, owner)
    response = await invite_as(browser, "tenants", "superuser")
    assert response.status_code == 400 and 'id="invite-role-error"' in response.text
    assert await count_rows(a, Invite) == 0


async def test_the_last_owner_cannot_be_removed(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    browser = await browsers(a, owner)
    page = "/manage/tenants/members"
    response = await browser.submit(page, f"{page}/{owner.id}/remove")
    assert response.status_code == 409 and "at least one owner" in response.text
    assert await roles_in(a, tenants) == {"olga": "owner"}

    second = await member(a, "nina", tenants, "owner")
    response = await browser.submit(page, f"{page}/{second.id}/remove")
    assert response.status_code == 303
    assert await roles_in(a, tenants) == {"olga": "owner"}


async def test_admins_remove_editors_and_admins_but_not_owners(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    await member(a, "nina", tenants, "owner")
    admin = await member(a, "ada", tenants, "admin")
    editor = await member(a, "eddy", tenants, "editor")
    browser = await browsers(a, admin)
    page = "/manage/tenants/members"
    response = await browser.submit(page, f"{page}/{owner.id}/remove")
    assert response.status_code == 403
    response = await browser.submit(page, f"{page}/{editor.id}/remove")
    assert response.status_code == 303
    assert await roles_in(a, tenants) == {"olga": "owner", "nina": "owner", "ada": "admin"}


async def test_the_instance_admin_counts_as_owner_everywhere(a: Instance, tenants: Actor, browsers) -> None:
    owner = await member(a, "olga", tenants, "owner")
    await member(a, "nina", tenants, "owner")
    root = await make_account(a, "root", is_admin=True)
    browser = await browsers(a, root)
    page = await browser.get("/manage/tenants/members")
    assert page.status_code == 200 and "you manage it as this server's admin, with an owner's rights" in page.text
    response = await invite_as(browser, "tenants", "owner")
    assert response.status_code == 200 and INVITE_LINK.search(response.text)
    response = await browser.submit("/manage/tenants/members", f"/manage/tenants/members/{owner.id}/remove")
    assert response.status_code == 303
    assert await roles_in(a, tenants) == {"nina": "owner"}
    assert await count_rows(a, Membership, Membership.account_id == root.id) == 0, "no membership needed"
