"""`fedihub pledge`, `withdraw-pledge`, `report-back` and `rollup`: a coalition's pledges from scripts."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.command("pledge")
@click.argument("handle")
@click.argument("call_url")
@click.option("--message", default=None, help="A message for the call's organizers.")
@click.option("--local-title", default=None, help="Title of your own local action for the call.")
@click.option(
    "--local-start", default=None,
    help="Its start, ISO 8601 (2026-05-01T17:00 in --local-timezone, or with an offset).",
)
@click.option("--local-timezone", default=None, help="IANA zone of the local action (default: the call's).")
@click.option("--local-place", default=None, help="Where the local action happens.")
@click.option("--local-end", default=None, help="When it ends, as --local-start (optional).")
@click.option("--local-address", default=None, help="Its street address (optional).")
@click.option("--local-latitude", default=None, help="Its latitude, with --local-longitude (optional).")
@click.option("--local-longitude", default=None, help="Its longitude, with --local-latitude (optional).")
@click.option("--local-online", default=None, help="An online link, https://… (instead of, or with, a place).")
@click.option("--local-description", default=None, help="What happens, what to bring (optional).")
@with_runtime
async def pledge(
    runtime: Runtime, handle: str, call_url: str, message: str | None, local_title: str | None,
    local_start: str | None, local_timezone: str | None, local_place: str | None, local_end: str | None,
    local_address: str | None, local_latitude: str | None, local_longitude: str | None, local_online: str | None,
    local_description: str | None,
) -> None:
    """Pledge the coalition HANDLE to the call at CALL_URL (a Join to the call's server).

    \b
    Examples:
      fedihub pledge tenants https://other.example/o/1234 --message "We bring 50 people"
      fedihub pledge tenants https://other.example/o/1234 --local-title "Springfield rally" \\
          --local-start 2026-05-01T17:00 --local-end 2026-05-01T19:00 --local-place "State Capitol" \\
          --local-address "2 E Capitol Ave, Springfield" --local-latitude 39.798 --local-longitude -89.654
    See also: fedihub withdraw-pledge, fedihub report-back, fedihub rollup.
    """
    import anyio.to_thread

    from fedihub.pledges import service as pledges
    from fedihub.pledges.calls import get_call_target
    from fedihub.pledges.local_action import IncompleteAction, read_local_action

    target = await get_call_target(runtime.ctx, call_url)
    try:
        action = await anyio.to_thread.run_sync(functools.partial(
            read_local_action, title=local_title, start=local_start, place=local_place, timezone=local_timezone,
            default_timezone=target.timezone, end=local_end, address=local_address, latitude=local_latitude,
            longitude=local_longitude, online_url=local_online, description=local_description,
        ))
    except IncompleteAction:
        raise InvalidInput(
            "a local action needs --local-title, --local-start and --local-place together"
            " (or --local-online for one held online)"
        ) from None
    except InvalidInput as exc:
        # The form's field names (action_end …) read as this command's options.
        name = (exc.field or "").removeprefix("action_")
        option = "--local-" + ("online" if name == "online_url" else name.replace("_", "-"))
        raise InvalidInput(f"{option}: {exc.public_message}") from None
    async with runtime.ctx.sessions.begin() as session:
        row = await pledges.pledge(runtime.ctx, session, handle, target, message=message, action=action)
    where = f" with the local action {row.action_uri}" if row.action_uri else ""
    click.echo(f"{handle} pledged to {call_url}{where}; waiting for the call's server to accept")


@click.command("withdraw-pledge")
@click.argument("handle")
@click.argument("call_url")
@with_runtime
async def pledge_withdraw(runtime: Runtime, handle: str, call_url: str) -> None:
    """Withdraw HANDLE's pledge to CALL_URL (a Leave to the call's server)."""
    from fedihub.pledges import service as pledges

    async with runtime.ctx.sessions.begin() as session:
        await pledges.withdraw(runtime.ctx, session, handle, call_url)
    click.echo(f"{handle} withdrew its pledge to {call_url}")


@click.command("report-back")
@click.argument("handle")
@click.argument("call_url")
@click.option("--happened/--did-not-happen", required=True, help="Whether the local action took place.")
@click.option("--turnout", type=click.IntRange(min=0), default=None, help="Rough number of people.")
@click.option("--link", default=None, help="Photos, a write-up, a press article (https://…).")
@with_runtime
async def pledge_report(
    runtime: Runtime, handle: str, call_url: str, happened: bool, turnout: int | None, link: str | None
) -> None:
    """Report back after the call: did HANDLE's action for CALL_URL happen, and how many came."""
    from fedihub.pledges import service as pledges

    async with runtime.ctx.sessions.begin() as session:
        await pledges.report(runtime.ctx, session, handle, call_url, happened=happened, turnout=turnout, url=link)
    click.echo(f"{handle} reported on {call_url}")


@click.command("rollup")
@click.argument("call_url")
@with_runtime
async def pledge_show(runtime: Runtime, call_url: str) -> None:
    """Print the roll-up of the call at CALL_URL as this server knows it."""
    from fedihub.federation.objects import find_object
    from fedihub.pledges import mirror
    from fedihub.pledges.queries import current_rollup

    async with runtime.ctx.sessions() as session:
        call = await find_object(session, call_url)
    if call is None:
        raise InvalidInput("this server does not know that call; open it on the web first or pledge to it")
    await mirror.refresh_if_stale(runtime.ctx, call)
    async with runtime.ctx.sessions() as session:
        rollup = await current_rollup(session, call)
    unvouched = f" and {rollup.unvouched} unvouched" if rollup.unvouched else ""
    click.echo(f"{call.name}: {rollup.pledged} coalition(s) pledged{unvouched}, {len(rollup.actions)} local action(s)")
    for label, count in rollup.by_region:
        click.echo(f"  region    {label}: {count}")
    for label, count in rollup.by_movement:
        click.echo(f"  movement  {label}: {count}")
    for item in rollup.actions:
        assert item.action is not None
        when = item.action.start.isoformat() if item.action.start else "time not given"
        click.echo(f"  action    {item.action.name} ({when}, {item.action.place or 'place not given'}) "
                   f"by {item.coalition.name}")
    if rollup.reported:
        click.echo(f"  {rollup.happened} of {rollup.pledged} local actions happened; turnout {rollup.turnout}")
    for carrier in rollup.carriers:
        click.echo(f"  carried by {carrier.name or carrier.uri}")
