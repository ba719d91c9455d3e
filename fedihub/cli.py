"""The `fedihub` command: serve, worker, migrate, admin, coalition and post.

The other groups (call, hub, follow, block, queue …) live in commands/.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from urllib.parse import urlencode

import click

from fedihub.accounts import invites
from fedihub.accounts import service as accounts
from fedihub.app import Runtime, create_app, open_runtime, run_background
from fedihub.coalitions import service
from fedihub.coalitions.banners import BannerChoice
from fedihub.coalitions.profile import parse_profile_form, profile_form_fields, save_profile
from fedihub.commands import calls as calls_commands
from fedihub.commands import directory as directory_commands
from fedihub.commands import discovery as discovery_commands
from fedihub.commands import hubs as hubs_commands
from fedihub.commands import network as network_commands
from fedihub.commands import pledges as pledge_commands
from fedihub.commands import site as site_commands
from fedihub.commands.base import FriendlyGroup, configure_logging, load_settings, with_runtime
from fedihub.commands.images import image_options, read_banner
from fedihub.errors import InvalidInput
from fedihub.federation import follows
from fedihub.federation.actors import get_local_actor, resolve_target
from fedihub.hubs import two_way
from fedihub.protocol.webfinger import format_handle
from fedihub.storage.db import create_engine
from fedihub.storage.migrate import upgrade_to_head


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="fedihub")
def main() -> None:
    """fedihub: coalitions as ActivityPub groups, federated with Mastodon and the fediverse.

    Configuration comes from FEDIHUB_* environment variables (see the README).
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Serve web requests only; run `fedihub worker` separately.")
@click.option("--no-migrate", is_flag=True, help="Do not bring the database schema up to date on start.")
def serve(host: str, port: int, no_worker: bool, no_migrate: bool) -> None:
    """Run the web server, with a queue worker in the same process."""
    import uvicorn

    settings = load_settings()
    configure_logging(settings)
    # When no instance admin exists yet, the lifespan prints a one-time setup link here.
    app = create_app(
        settings, run_worker=not no_worker, migrate=not no_migrate, announce=lambda text: click.echo(text, err=True)
    )
    click.echo(f"fedihub serving {settings.base_url} on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=True,
                server_header=False)


@main.command()
def worker() -> None:
    """Run a queue worker only (start several for scale-out on PostgreSQL)."""
    settings = load_settings()
    configure_logging(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with open_runtime(settings) as runtime:
            await run_background(runtime, stop)

    asyncio.run(run())


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo("database is up to date")


@main.group()
def admin() -> None:
    """Instance administrators: the people who manage coalitions, accounts and domain blocks."""


@admin.command("create")
@click.option("--username", default=None, help="The new admin's username (prefilled in the setup link).")
@click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of standard input and create the account at once.",
)
@click.option("--email", default=None, help="With --password-stdin: the admin's address for organizers' notices.")
@with_runtime
async def admin_create(runtime: Runtime, username: str | None, password_stdin: bool, email: str | None) -> None:
    """Print a one-time setup link that creates an instance admin in the browser.

    The link works once and for 7 days. With --username U --password-stdin the admin is created
    directly instead, e.g. `printf '%s\\n' "$PASSWORD" | fedihub admin create --username U --password-stdin`.
    """
    ctx = runtime.ctx
    if email and not password_stdin:
        raise InvalidInput("--email needs --password-stdin (with a setup link, the admin sets it on /account)")
    if password_stdin:
        if not username:
            raise InvalidInput("--password-stdin needs --username")
        password = sys.stdin.readline().rstrip("\r\n")
        async with ctx.sessions.begin() as session:
            account = await accounts.create_account(session, username, password, now=ctx.clock(), is_admin=True)
            if email:
                await accounts.set_email(session, account.id, email)
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


@main.group()
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
    async with runtime.ctx.sessions.begin() as session:
        await service.delete_coalition(runtime.ctx, session, handle)
    click.echo(f"deleted {format_handle(handle.removeprefix('@').lower(), runtime.ctx.host)}")


@main.command("post")
@click.argument("local_handle")
@click.option("--text", required=True, help="The announcement (Markdown).")
@with_runtime
async def post_command(runtime: Runtime, local_handle: str, text: str) -> None:
    """Publish a public announcement (a Note) from LOCAL_HANDLE to its followers."""
    async with runtime.ctx.sessions.begin() as session:
        row = await service.post_note(runtime.ctx, session, local_handle, text)
    click.echo(row.uri)


@main.command("delete-post")
@click.argument("url")
@with_runtime
async def delete_post_command(runtime: Runtime, url: str) -> None:
    """Delete the post at URL; followers' servers get a Delete."""
    async with runtime.ctx.sessions.begin() as session:
        await service.delete_object(runtime.ctx, session, url)
    click.echo(f"deleted {url}")


main.add_command(calls_commands.call)
main.add_command(hubs_commands.hub)
main.add_command(site_commands.site)
main.add_command(directory_commands.directory)
main.add_command(network_commands.follow_command)
main.add_command(network_commands.unfollow_command)
main.add_command(network_commands.block_command)
main.add_command(network_commands.unblock_command)
main.add_command(network_commands.queue_command)
for command in (pledge_commands.pledge, pledge_commands.pledge_withdraw, pledge_commands.pledge_report,
                pledge_commands.pledge_show, discovery_commands.lookup, discovery_commands.import_csv):
    main.add_command(command)
