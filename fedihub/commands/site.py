"""`fedihub site`: the instance's own name and description, as the admin page sets them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.group()
def site() -> None:
    """The name and description this server shows on its pages and to other servers."""


@site.command("set")
@click.option("--name", default=None, help="The instance's name, e.g. 'Bay Area Coalitions' (at most 100 characters).")
@click.option("--description", default=None, help="One or two sentences about it (at most 500 characters).")
@with_runtime
async def site_set(runtime: Runtime, name: str | None, description: str | None) -> None:
    """Set the name and/or the description; what is not given stays as it is."""
    from fedihub.accounts.site import find_site_info, save_site_info

    if name is None and description is None:
        raise InvalidInput("nothing to change: give --name, --description or both")
    ctx = runtime.ctx
    async with ctx.sessions.begin() as session:
        current = await find_site_info(session)
        info = await save_site_info(
            ctx, session,
            name if name is not None else (current.name if current else runtime.settings.display_name),
            description if description is not None else (current.description if current else None),
        )
    click.echo(f"name: {info.name}")
    click.echo(f"description: {info.description or '(none)'}")


@site.command("show")
@with_runtime
async def site_show(runtime: Runtime) -> None:
    """Print the name and description pages show now."""
    from fedihub.accounts.site import find_site_info

    async with runtime.ctx.sessions() as session:
        info = await find_site_info(session)
    default = "" if info else "  (the FEDIHUB_INSTANCE_NAME setting, else the host: not set here yet)"
    click.echo(f"name: {info.name if info else runtime.settings.display_name}{default}")
    click.echo(f"description: {(info.description if info else None) or '(none)'}")
