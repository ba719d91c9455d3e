"""`fedihub lookup` and `fedihub import`: find coalitions by handle or link, or import a list of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime
    from fedihub.discovery.importer import RowResult, Summary

ADDRESS_WIDTH = 40


@click.command("lookup")
@click.argument("target")
@with_runtime
async def lookup(runtime: Runtime, target: str) -> None:
    """Say what TARGET is (a handle like tenants@city.example, or a link): coalition, hub, person …"""
    from fedihub.discovery.lookup import look_up

    result = await look_up(runtime.ctx, target, allow_private=runtime.settings.allow_private_addresses)
    for fact in result.facts():
        click.echo(f"{fact.label.lower()}: {fact.url or fact.value}")


def progress_line(position: int, total: int, result: RowResult) -> str:
    """ "[12/40] found tenants@city.example — Chicago Tenants Union" """
    return f"[{position}/{total}] {result.outcome} {result.label} — {result.detail}"


def summary_lines(summary: Summary, *, dry_run: bool) -> list[str]:
    lines = [f"{'outcome':<15}{'rows':>5}"]
    lines += [f"{outcome:<15}{count:>5}" for outcome, count in summary.rows()]
    lines.append(f"{'total':<15}{summary.total:>5}")
    others = summary.not_found_rows()
    if others:
        width = min(ADDRESS_WIDTH, max(len(r.label) for r in others))
        lines += ["", f"{'line':>5}  {'outcome':<14} {'address':<{width}}  reason"]
        lines += [f"{r.line:>5}  {r.outcome:<14} {r.label:<{width}}  {r.reason or ''}" for r in others]
    if dry_run:
        lines += ["", "dry run: nothing was saved"]
    return lines


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Resolve every row and report, but save nothing.")
@with_runtime
async def import_csv(runtime: Runtime, file: Path, dry_run: bool) -> None:
    """Import the coalitions listed in FILE, a CSV file with a header row.

    Columns: address (a handle or a link; required), movement (several separated by ";"),
    region, note. Progress goes to stderr, the summary to stdout.
    """
    from fedihub.discovery.csv_rows import MAX_BYTES, read_rows
    from fedihub.discovery.importer import Summary, run_import

    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from None
    rows = read_rows(data)
    summary = Summary()
    async for result in run_import(
        runtime.ctx, rows, dry_run=dry_run, allow_private=runtime.settings.allow_private_addresses
    ):
        summary.add(result)
        click.echo(progress_line(summary.total, len(rows), result), err=True)
    for line in summary_lines(summary, dry_run=dry_run):
        click.echo(line)
