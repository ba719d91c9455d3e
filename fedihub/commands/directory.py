"""`fedihub directory`: read the rosters of known hubs into the directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.group()
def directory() -> None:
    """The directory of coalitions and hubs this server knows (the /directory page)."""


@directory.command("refresh")
@click.option("--depth", default=2, show_default=True, type=click.IntRange(1, 10),
              help="1 reads the rosters of the hubs this server knows; 2 also those of the hubs they list; …")
@click.option("--max-pages", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Requests per roster at most.")
@click.option("--max-items", default=5000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Roster items read in this run at most, all rosters together.")
@click.option("--delay", default=1.0, show_default=True, type=click.FloatRange(0, 60),
              help="Seconds between two requests to the same server.")
@with_runtime
async def directory_refresh(runtime: Runtime, depth: int, max_pages: int, max_items: int, delay: float) -> None:
    """Read the rosters of the hubs this server knows and list their members in the directory.

    Members are listed from what the roster says (they are not fetched one by one); a member this
    server has fetched keeps its own profile. A roster read less than 6 hours ago is not read again.
    """
    from fedihub.directory.rosters import RosterLimits, refresh_directory

    limits = RosterLimits(depth=depth, max_pages=max_pages, max_items=max_items, host_delay=delay)
    report = await refresh_directory(runtime.ctx, limits)
    click.echo(
        f"read {report.rosters_read} roster{'' if report.rosters_read == 1 else 's'} "
        f"({report.requests} requests, {report.items} items): {report.members_added} new in the directory, "
        f"{report.members_updated} updated, {report.members_kept} already known from their own profile"
    )
    if report.rosters_fresh:
        click.echo(f"{report.rosters_fresh} roster(s) read less than 6 hours ago were left alone")
    for hub, reason in report.failures:
        click.echo(f"could not read the roster of {hub}: {reason}")
    for note in report.notes:
        click.echo(note)
