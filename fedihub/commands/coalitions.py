"""`fedihub coalition`: create, list, update and delete the coalitions hosted here, and decide follow requests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.commands.images import image_options, read_banner
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.group()
def coalition() -> None:
    """Create, list and manage coalitions hosted here."""


@coalition.command("create")
@click.argument("handle")
@click.option("--name", required=True, help="Display name, e.g. 'Bay Area Tenants Union'.")
@click.option("--summary", default=None, help="About text (Markdown).")
@click.option("--approve-followers", is_flag=True, help="Hold follow requests for approval.")
@click.option("--owner", default=None, metavar="USERNAME", help="An existing account to make its owner.")
@with_runtime
async def coalition_create(
    runtime: Runtime, handle: str, name: str, summary: str | None, approve_followers: bool, owner: str | None
) -> None:
    """Create a coalition with the handle HANDLE (lowercase letters, digits, _ . -).

    Without --owner only the instance admins manage it until someone is invited as its owner.
    """
    from fedihub.accounts import service as accounts
    from fedihub.coalitions import service
    from fedihub.protocol.webfinger import format_handle

    async with runtime.ctx.sessions.begin() as session:
        actor = await service.create_coalition(
            runtime.ctx, session, handle, name=name, summary=summary, manually_approves_followers=approve_followers
        )
        account = await accounts.add_owner(session, actor.id, owner, now=runtime.ctx.clock())
    click.echo(f"created {format_handle(actor.username or '', actor.domain)}  {actor.uri}")
    if account is not None:
        click.echo(f"owner: {account.username}")


@coalition.command("list")
@with_runtime
async def coalition_list(runtime: Runtime) -> None:
    """List the coalitions hosted here."""
    from fedihub.coalitions import service
    from fedihub.protocol.webfinger import format_handle

    async with runtime.ctx.sessions() as session:
        rows = await service.list_coalitions(session)
    if not rows:
        click.echo("no coalitions yet: create one with `fedihub coalition create HANDLE --name NAME`")
    for row in rows:
        lock = " (approves followers)" if row.manually_approves_followers else ""
        handle = format_handle(row.username, row.domain)
        click.echo(f"{handle}  {row.name}  followers={row.followers} following={row.following}{lock}  {row.uri}")


@coalition.command("requests")
@click.argument("handle")
@with_runtime
async def coalition_requests(runtime: Runtime, handle: str) -> None:
    """List follow requests waiting for HANDLE's approval."""
    from fedihub.federation import follows

    async with runtime.ctx.sessions() as session:
        pending = await follows.pending_requests(session, handle)
    if not pending:
        click.echo("no follow requests waiting")
    for row in pending:
        click.echo(f"{row.follower.handle}  {row.follower.uri}")


@coalition.command("approve")
@click.argument("handle")
@click.argument("follower")
@with_runtime
async def coalition_approve(runtime: Runtime, handle: str, follower: str) -> None:
    """Approve FOLLOWER's request to follow HANDLE."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import two_way

    requester = await resolve_target(runtime.ctx, follower)
    async with runtime.ctx.sessions.begin() as session:
        await two_way.approve_follower(runtime.ctx, session, handle, requester, approve=True)
    click.echo(f"approved {follower}")


@coalition.command("reject")
@click.argument("handle")
@click.argument("follower")
@with_runtime
async def coalition_reject(runtime: Runtime, handle: str, follower: str) -> None:
    """Reject FOLLOWER's request to follow HANDLE."""
    from fedihub.federation import follows
    from fedihub.federation.actors import resolve_target

    requester = await resolve_target(runtime.ctx, follower)
    async with runtime.ctx.sessions.begin() as session:
        await follows.decide_request(runtime.ctx, session, handle, requester, approve=False)
    click.echo(f"rejected {follower}")


@coalition.command("update")
@click.argument("handle")
@click.option("--name", default=None, help="New display name.")
@click.option("--summary", default=None, help="New about text (Markdown).")
@click.option(
    "--approve-followers/--open-followers", default=None, help="Hold follow requests, or accept them at once."
)
@click.option(
    "--movement", "movements", multiple=True, help="A movement or hashtag; repeat for several (replaces the list)."
)
@click.option("--region-city", default=None, help="City, e.g. 'Chicago' ('' clears it).")
@click.option("--region-state", default=None, help="State or province, e.g. 'Illinois'.")
@click.option("--region-country", default=None, help="Country, e.g. 'US'.")
@click.option("--latitude", default=None, help="Latitude for the map, e.g. 41.8781 (with --longitude).")
@click.option("--longitude", default=None, help="Longitude for the map, e.g. -87.6298 (with --latitude).")
@image_options
@click.option("--remove-image", is_flag=True, help="Remove the banner image.")
@with_runtime
async def coalition_update(
    runtime: Runtime, handle: str, name: str | None, summary: str | None, approve_followers: bool | None,
    movements: tuple[str, ...], region_city: str | None, region_state: str | None, region_country: str | None,
    latitude: str | None, longitude: str | None, image_path: Path | None = None, image_alt: str | None = None,
    remove_image: bool = False,
) -> None:
    """Change HANDLE's profile as the organizer profile form does; followers' servers get an Update."""
    from fedihub.coalitions.banners import BannerChoice
    from fedihub.coalitions.profile import parse_profile_form, profile_form_fields, save_profile
    from fedihub.federation.actors import get_local_actor
    from fedihub.protocol.webfinger import format_handle

    given = {"name": name, "summary": summary, "region_city": region_city, "region_state": region_state,
             "region_country": region_country, "latitude": latitude, "longitude": longitude}
    changes: dict[str, str | list[str]] = {key: value for key, value in given.items() if value is not None}
    if movements:
        changes.update(movements=[], tags=", ".join(movements))
    if approve_followers is not None:
        changes["manually_approves_followers"] = "on" if approve_followers else ""
    banner = BannerChoice(None, "", remove=True) if remove_image else await read_banner(image_path, image_alt)
    if not changes and banner is None:
        raise InvalidInput("nothing to change: give --name, --summary, --movement, --region-…, --latitude/--longitude, "
                           "--approve-followers/--open-followers, --image or --remove-image")
    async with runtime.ctx.sessions.begin() as session:
        current = profile_form_fields(await get_local_actor(session, handle))
        # The same checks and the same save as the web form, so both paths send the same Update.
        _, changed = await save_profile(
            runtime.ctx, session, handle, parse_profile_form({**current, **changes}), banner=banner,
        )
    shown = format_handle(handle.removeprefix("@").lower(), runtime.ctx.host)
    click.echo(f"updated {shown}" if changed else f"{shown} already had this profile")


@coalition.command("delete")
@click.argument("handle")
@click.confirmation_option(prompt="Delete this coalition for good? Its handle can never be reused.")
@with_runtime
async def coalition_delete(runtime: Runtime, handle: str) -> None:
    """Delete HANDLE and tell every server that knows it."""
    from fedihub.coalitions import service
    from fedihub.protocol.webfinger import format_handle

    async with runtime.ctx.sessions.begin() as session:
        await service.delete_coalition(runtime.ctx, session, handle)
    click.echo(f"deleted {format_handle(handle.removeprefix('@').lower(), runtime.ctx.host)}")
