"""The instance admin's page and commands: coalitions, accounts, domain blocks, setup links."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fedihub.accounts import service as accounts
from fedihub.app import create_app
from fedihub.cli import main
from fedihub.coalitions import service
from fedihub.settings import Settings
from fedihub.storage.models import Actor, DomainBlock
from tests.integration.helpers import AS2, count_rows
from tests.integration.organizers import (
    PASSWORD,
    add_member,
    browsers,
    cheap_password_hashing,
    make_account,
)
from tests.support.edges import read
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below

SETUP_LINK = re.compile(r"http://[a-z0-9.:]+/setup/[A-Za-z0-9_-]{43}")


@pytest.fixture
async def root(a: Instance):  # type: ignore[no-untyped-def]
    return await make_account(a, "root", is_admin=True)


async def test_only_instance_admins_reach_the_admin_page(a: Instance, tenants: Actor, root, browsers) -> None:
    anonymous = await browsers(a)
    response = await anonymous.get("/admin")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"

    owner = await make_account(a, "olga")
    await add_member(a, owner, tenants, "owner")
    browser = await browsers(a, owner)
    assert (await browser.get("/admin")).status_code == 403
    response = await browser.post("/admin/coalitions", {"csrf_token": browser.session_csrf_token(),
                                                        "handle": "sneaky", "name": "Sneaky"})
    assert response.status_code == 403
    response = await browser.post("/admin/blocks", {"csrf_token": browser.session_csrf_token(), "domain": "x.example"})
    assert response.status_code == 403
    assert [c.username for c in await read(a.ctx, service.list_coalitions)] == ["tenants"]
    assert await count_rows(a, DomainBlock) == 0

    admin = await browsers(a, root)
    page = await admin.get("/admin")
    assert page.status_code == 200 and "Tenants Union" in page.text and "olga" in page.text


async def test_the_admin_creates_a_coalition_and_owns_it(a: Instance, root, browsers) -> None:
    browser = await browsers(a, root)
    response = await browser.submit("/admin", "/admin/coalitions", {
        "handle": "Tenants", "name": "Tenants Union", "summary": "We organise *renters*.",
    })
    assert response.status_code == 303 and response.headers["location"] == "/manage/tenants"
    actor = await a.get("/g/tenants", headers={"accept": AS2})
    assert actor.status_code == 200 and actor.json()["type"] == "Group"
    assert "<em>renters</em>" in actor.json()["summary"]
    async with a.ctx.sessions() as session:
        tenants = await session.scalar(select(Actor).where(Actor.local_username == "tenants"))
        assert tenants is not None
        members = await accounts.members_of(session, tenants.id)
    assert [(m.account.username, m.role) for m in members] == [("root", "owner")]


async def test_an_admin_of_a_coalition_without_owner_is_told_so(a: Instance, tenants: Actor, root, browsers) -> None:
    admin = await browsers(a, root)
    page = await admin.get("/manage/tenants/members")
    assert "Your role" not in page.text
    assert "you manage it as this server's admin" in page.text and "has no owner yet" in page.text


async def test_a_handle_typed_with_its_at_sign_makes_the_coalition_without_it(a: Instance, root, browsers) -> None:
    browser = await browsers(a, root)
    response = await browser.submit("/admin", "/admin/coalitions", {"handle": "@Renters", "name": "Renters"})
    assert response.status_code == 303 and response.headers["location"] == "/manage/renters"
    assert (await a.get("/.well-known/webfinger", params={"resource": f"acct:renters@{a.host}"})).status_code == 200
    response = await browser.submit("/admin", "/admin/coalitions", {"handle": "@owners@elsewhere.example", "name": "X"})
    assert response.status_code == 400 and "type just &#39;owners&#39;" in response.text
    assert [c.username for c in await read(a.ctx, service.list_coalitions)] == ["renters"]


async def test_coalition_form_errors_are_shown_next_to_the_field(a: Instance, tenants: Actor, root, browsers) -> None:
    browser = await browsers(a, root)
    cases = [
        ({"handle": "tenants", "name": "Again"}, 409, "handle", "already taken"),
        ({"handle": "", "name": "No handle"}, 400, "handle", "give the coalition a handle"),
        ({"handle": "newone", "name": ""}, 400, "name", "display name"),
    ]
    for data, status, field, message in cases:
        response = await browser.submit("/admin", "/admin/coalitions", data)
        assert response.status_code == status, data
        error = re.search(rf'id="coalition-{field}-error">([^<]*)<', response.text)
        assert error and message.lower() in error.group(1).lower(), (data, response.text[-3000:])
    assert [c.username for c in await read(a.ctx, service.list_coalitions)] == ["tenants"]


async def test_disabling_an_account_logs_it_out_and_keeps_it_out(a: Instance, tenants: Actor, root, browsers) -> None:
    sam = await make_account(a, "sam")
    await add_member(a, sam, tenants, "admin")
    sams_browser = await browsers(a, sam)
    assert (await sams_browser.get("/manage/tenants/members")).status_code == 200

    admin = await browsers(a, root)
    response = await admin.submit("/admin", f"/admin/accounts/{sam.id}/disable")
    assert response.status_code == 200 and "The account sam is disabled." in response.text

    response = await sams_browser.get("/manage/tenants/members")
    assert response.status_code == 303, "the open session ended"
    response = await sams_browser.log_in("sam")
    assert response.status_code == 403 and "disabled by an administrator" in response.text

    await admin.submit("/admin", f"/admin/accounts/{sam.id}/enable")
    assert (await sams_browser.log_in("sam")).status_code == 303
    assert (await sams_browser.get("/manage/tenants/members")).status_code == 200


async def test_an_admin_cannot_disable_themselves(a: Instance, root, browsers) -> None:
    browser = await browsers(a, root)
    response = await browser.submit("/admin", f"/admin/accounts/{root.id}/disable")
    assert response.status_code == 400 and "cannot disable your own account" in response.text
    assert (await browser.get("/admin")).status_code == 200


async def test_the_admin_blocks_and_unblocks_a_domain(a: Instance, root, browsers) -> None:
    browser = await browsers(a, root)
    response = await browser.submit("/admin", "/admin/blocks", {"domain": "https://Spam.Example/", "reason": "spam"})
    assert response.status_code == 200 and "spam.example is blocked." in response.text
    async with a.ctx.sessions() as session:
        block = await session.get(DomainBlock, "spam.example")
    assert block is not None and block.reason == "spam"

    response = await browser.submit("/admin", "/admin/blocks", {"domain": "not a domain"})
    assert response.status_code == 400 and 'id="block-domain-error"' in response.text

    response = await browser.submit("/admin", "/admin/blocks/remove", {"domain": "spam.example"})
    assert response.status_code == 200 and "spam.example is no longer blocked." in response.text
    assert await count_rows(a, DomainBlock) == 0


async def test_the_admin_makes_a_link_for_another_admin(a: Instance, root, browsers) -> None:
    browser = await browsers(a, root)
    response = await browser.submit("/admin", "/admin/setup-link")
    link = SETUP_LINK.search(response.text)
    assert response.status_code == 200 and link
    path = link.group(0).removeprefix("http://a.test")
    newcomer = await browsers(a)
    response = await newcomer.submit(
        path, path, {"username": "second", "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert response.status_code == 303
    assert (await newcomer.get("/admin")).status_code == 200


async def test_serve_prints_the_setup_link_until_an_admin_exists(database_url: str, cheap_password_hashing) -> None:
    settings = Settings(base_url="http://coalitions.test", database_url=database_url, secret_key="test-secret")
    printed: list[str] = []
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            app = create_app(settings, http_client=http, announce=printed.append)
            async with app.router.lifespan_context(app):
                pass
        links = [SETUP_LINK.search(text) for text in printed]
        assert len(printed) == 2 and all(links)
        assert links[0].group(0) == links[1].group(0), "a restart prints the same link, not a new one"  # type: ignore[union-attr]

        app = create_app(settings, http_client=http, announce=printed.append)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.base_url) as client:
                path = links[0].group(0).removeprefix(settings.base_url)  # type: ignore[union-attr]
                token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get(path)).text)
                assert token
                response = await client.post(path, data={
                    "csrf_token": token.group(1), "username": "root",
                    "password": PASSWORD, "password_confirm": PASSWORD,
                })
                assert response.status_code == 303
        app = create_app(settings, http_client=http, announce=printed.append)
        async with app.router.lifespan_context(app):
            pass
    assert len(printed) == 3, "once an admin exists, nothing is printed"


# --- The command line -------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path / "data"), "FEDIHUB_BASE_URL": "http://coalitions.test",
           "FEDIHUB_LOG_LEVEL": "WARNING", "FEDIHUB_DATABASE_URL": "", "FEDIHUB_SECRET_KEY": ""}
    result = CliRunner(env=env).invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    return env


def test_admin_create_help_explains_both_ways() -> None:
    result = CliRunner().invoke(main, ["admin", "create", "--help"])
    assert result.exit_code == 0
    assert "one-time setup link" in result.output and "--password-stdin" in result.output
    assert "--username" in result.output


def test_admin_create_prints_a_setup_link(cli_env: dict[str, str]) -> None:
    runner = CliRunner(env=cli_env)
    first = runner.invoke(main, ["admin", "create"])
    assert first.exit_code == 0, first.output
    link = SETUP_LINK.search(first.output)
    assert link and link.group(0).startswith("http://coalitions.test/setup/")
    again = runner.invoke(main, ["admin", "create", "--username", "Rosa"])
    assert again.exit_code == 0
    assert f"{link.group(0)}?username=rosa" in again.output, "the unused link again, with the name filled in"


def test_admin_create_with_a_password_from_stdin(cli_env: dict[str, str], cheap_password_hashing) -> None:
    runner = CliRunner(env=cli_env)
    result = runner.invoke(main, ["admin", "create", "--username", "root", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created instance admin root" in result.output and PASSWORD not in result.output

    result = runner.invoke(main, ["admin", "create", "--username", "other", "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "error: the password is too short: use at least 10 characters" in result.output
    result = runner.invoke(main, ["admin", "create", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "needs --username" in result.output


def test_admin_create_can_choose_which_notices_come_at_once(cli_env: dict[str, str], cheap_password_hashing) -> None:
    runner = CliRunner(env=cli_env)
    result = runner.invoke(main, ["admin", "create", "--username", "root", "--password-stdin", "--email",
                                  "root@example.org", "--notices", "new_call=now"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    database = Path(cli_env["FEDIHUB_DATA_DIR"]) / "fedihub.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT kind, delivery FROM notice_preferences").fetchall() == [("new_call", "now")]

    # A kind or a delivery the account page does not offer is refused, and no admin is made.
    result = runner.invoke(main, ["admin", "create", "--username", "other", "--password-stdin", "--email",
                                  "other@example.org", "--notices", "new_call=hourly"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "that is not a kind of notice or a way to receive it" in result.output
    result = runner.invoke(main, ["admin", "create", "--username", "other", "--password-stdin",
                                  "--notices", "new_call=now"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "--notices needs --email" in result.output
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT username FROM accounts ORDER BY id").fetchall() == [("root",)]
