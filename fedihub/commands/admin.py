"""`fedihub admin`: create the instance administrators."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import click

from fedihub.commands.base import with_runtime
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.group()
def admin() -> None:
    """Instance administrators: the people who manage coalitions, accounts and domain blocks."""


@admin.command("create")
@click.option("--username", default=None, help="The new admin's username (prefilled in the setup link).")
@click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of standard input and create the account at once.",
)
@click.option("--email", default=None, help="With --password-stdin: the admin's address for organizers' notices.")
@click.option(
    "--notices", "notices", multiple=True, metavar="KIND=DELIVERY",
    help="With --email: how a kind of notice reaches this admin (now, digest or off), as on /account; "
         "e.g. new_call=now. Repeatable; the other kinds keep their defaults.",
)
@with_runtime
async def admin_create(
    runtime: Runtime, username: str | None, password_stdin: bool, email: str | None, notices: tuple[str, ...]
) -> None:
    """Print a one-time setup link that creates an instance admin in the browser.

    The link works once and for 7 days. With --username U --password-stdin the admin is created
    directly instead, e.g. `printf '%s\\n' "$PASSWORD" | fedihub admin create --username U --password-stdin`.
    """
    from fedihub.accounts import invites
    from fedihub.accounts import service as accounts
    from fedihub.notices.preferences import save_preferences

    ctx = runtime.ctx
    if email and not password_stdin:
        raise InvalidInput("--email needs --password-stdin (with a setup link, the admin sets it on /account)")
    if notices and not email:
        raise InvalidInput("--notices needs --email: notices are mailed to that address")
    choices = {kind.strip(): delivery.strip() for kind, _, delivery in (c.partition("=") for c in notices)}
    if password_stdin:
        if not username:
            raise InvalidInput("--password-stdin needs --username")
        password = sys.stdin.readline().rstrip("\r\n")
        async with ctx.sessions.begin() as session:
            account = await accounts.create_account(session, username, password, now=ctx.clock(), is_admin=True)
            if email:
                await accounts.set_email(session, account.id, email)
                await save_preferences(session, account.id, choices)
        click.echo(f"created instance admin {account.username}; log in at {runtime.settings.base_url}/login")
        return
    async with ctx.sessions.begin() as session:
        link = await invites.get_setup_link(
            session, base_url=runtime.settings.base_url, secret_key=runtime.settings.secret_key, now=ctx.clock()
        )
    if username:
        link += "?" + urlencode({"username": accounts.normalise_username(username)})
    click.echo("Open this one-time link to create an instance admin (valid for 7 days, works once):")
    click.echo(link)
