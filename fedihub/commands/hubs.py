"""`fedihub hub`: create hubs and manage their members."""

from __future__ import annotations

import click

from fedihub.app import Runtime
from fedihub.commands.base import with_runtime
from fedihub.hubs import service as hubs
from fedihub.hubs.rules import SCOPES


@click.group()
def hub() -> None:
    """Hubs: groups that follow coalitions and hubs and boost their calls up the tree."""


@hub.command("create")
@click.argument("handle")
@click.option("--name", required=True, help="Display name, e.g. 'Illinois Tenants Hub'.")
@click.option("--scope", required=True, type=click.Choice(SCOPES), help="How far the hub reaches.")
@click.option("--region", default=None, help="The region it covers, e.g. 'Illinois'.")
@click.option("--movement", "movements", multiple=True, help="Boost only these movements (repeatable).")
@click.option("--only-region", "regions", multiple=True, help="Boost only these regions (repeatable).")
@click.option("--calls-only", is_flag=True, help="Boost calls to action only, not other public posts.")
@with_runtime
async def hub_create(
    runtime: Runtime, handle: str, name: str, scope: str, region: str | None,
    movements: tuple[str, ...], regions: tuple[str, ...], calls_only: bool,
) -> None:
    """Create a hub with the handle HANDLE."""
    actor = await hubs.create_hub(
        runtime.ctx, handle, name=name, scope=scope, region=region, movements=movements, regions=regions,
        calls_only=calls_only,
    )
    click.echo(f"created hub @{actor.username}@{runtime.settings.domain}  {actor.uri}")


@hub.command("add-member")
@click.argument("hub_handle")
@click.argument("targets", nargs=-1, required=True)
@with_runtime
async def hub_add_member(runtime: Runtime, hub_handle: str, targets: tuple[str, ...]) -> None:
    """Ask each TARGET (handle or URL) to let the hub follow it; boosting starts once it accepts."""
    for target in targets:
        row = await hubs.add_member(runtime.ctx, hub_handle, target)
        click.echo(f"{hub_handle} asked to follow {row.target.handle} ({row.state})")


@hub.command("remove-member")
@click.argument("hub_handle")
@click.argument("target")
@with_runtime
async def hub_remove_member(runtime: Runtime, hub_handle: str, target: str) -> None:
    """Stop following TARGET: the hub no longer boosts it."""
    await hubs.remove_member(runtime.ctx, hub_handle, target)
    click.echo(f"{hub_handle} no longer follows {target}")
