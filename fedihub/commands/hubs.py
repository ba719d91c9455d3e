"""`fedihub hub`: create hubs, manage their members, pauses and review lists, and join or leave hubs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.hubs.rules import SCOPES

if TYPE_CHECKING:
    from fedihub.app import Runtime


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
@click.option("--owner", default=None, metavar="USERNAME", help="An existing account to make its owner.")
@with_runtime
async def hub_create(
    runtime: Runtime, handle: str, name: str, scope: str, region: str | None,
    movements: tuple[str, ...], regions: tuple[str, ...], calls_only: bool, owner: str | None,
) -> None:
    """Create a hub with the handle HANDLE."""
    from fedihub.accounts import service as accounts
    from fedihub.hubs import service as hubs
    from fedihub.protocol.webfinger import format_handle

    async with runtime.ctx.sessions.begin() as session:
        actor = await hubs.create_hub(
            runtime.ctx, session, handle, name=name, scope=scope, region=region, movements=movements,
            regions=regions, calls_only=calls_only,
        )
        account = await accounts.add_owner(session, actor.id, owner, now=runtime.ctx.clock())
    click.echo(f"created hub {format_handle(actor.username or '', actor.domain)}  {actor.uri}")
    if account is not None:
        click.echo(f"owner: {account.username}")


@hub.command("add-member")
@click.argument("hub_handle")
@click.argument("targets", nargs=-1, required=True)
@with_runtime
async def hub_add_member(runtime: Runtime, hub_handle: str, targets: tuple[str, ...]) -> None:
    """Ask each TARGET (handle or URL) to let the hub follow it; boosting starts once it accepts."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import service as hubs

    ctx = runtime.ctx
    async with ctx.sessions() as session:
        await hubs.get_hub(session, hub_handle)  # before any lookup: "not a hub" needs no network
    for target in targets:
        member = await resolve_target(ctx, target)
        async with ctx.sessions.begin() as session:
            row = await hubs.add_member(ctx, session, hub_handle, member)
        click.echo(f"{hub_handle} asked to follow {row.target.handle} ({row.state})")


@hub.command("remove-member")
@click.argument("hub_handle")
@click.argument("target")
@with_runtime
async def hub_remove_member(runtime: Runtime, hub_handle: str, target: str) -> None:
    """Stop following TARGET: the hub no longer boosts it."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import service as hubs

    ctx = runtime.ctx
    async with ctx.sessions() as session:
        await hubs.get_hub(session, hub_handle)
    member = await resolve_target(ctx, target)
    async with ctx.sessions.begin() as session:
        await hubs.remove_member(ctx, session, hub_handle, member)
    click.echo(f"{hub_handle} no longer follows {target}")


@hub.command("members")
@click.argument("hub_handle")
@with_runtime
async def hub_members(runtime: Runtime, hub_handle: str) -> None:
    """List the members of HUB_HANDLE, and those it asked that have not accepted yet."""
    from fedihub.hubs import service as hubs

    async with runtime.ctx.sessions() as session:
        actor = await hubs.get_hub(session, hub_handle)
        members = await hubs.list_members(session, actor.id)
        waiting = await hubs.pending_members(session, actor.id)
    for member in members:
        details = [member.name or "", f"{member.scope} hub" if member.is_hub else "", member.region or "",
                   " ".join(f"#{tag}" for tag in member.movements)]
        click.echo("  ".join([member.handle, *(part for part in details if part)]))
    for target in waiting:
        click.echo(f"{target.handle}  (asked, waiting for them to accept)")
    if not members and not waiting:
        click.echo(f"{hub_handle} has no members yet")


@hub.command("join")
@click.argument("member_handle")
@click.argument("hub_target")
@click.option("--message", default=None, help="A few words for the hub's admins.")
@with_runtime
async def hub_join(runtime: Runtime, member_handle: str, hub_target: str, message: str | None) -> None:
    """Ask the hub HUB_TARGET (handle or URL) to take the coalition MEMBER_HANDLE as a member."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import membership

    hub = await resolve_target(runtime.ctx, hub_target)
    async with runtime.ctx.sessions.begin() as session:
        row = await membership.ask_to_join(runtime.ctx, session, member_handle, hub, message)
    click.echo(f"{member_handle} asked to join {row.hub.handle} ({membership.describe_state(row.state)})")


@hub.command("requests")
@click.argument("hub_handle")
@with_runtime
async def hub_requests(runtime: Runtime, hub_handle: str) -> None:
    """List the requests to join HUB_HANDLE that wait for a decision."""
    from fedihub.hubs import membership
    from fedihub.hubs import service as hubs

    async with runtime.ctx.sessions() as session:
        actor = await hubs.get_hub(session, hub_handle)
        rows = await membership.join_requests(session, actor.id)
    for row in rows:
        message = f"  “{row.message}”" if row.message else ""
        click.echo(f"{row.member.handle}  {row.member.name or ''}  since {row.created_at:%Y-%m-%d %H:%M}{message}")
    if not rows:
        click.echo(f"no requests to join {hub_handle} are waiting")


@hub.command("approve")
@click.argument("hub_handle")
@click.argument("member")
@with_runtime
async def hub_approve(runtime: Runtime, hub_handle: str, member: str) -> None:
    """Accept MEMBER's request to join HUB_HANDLE: the hub follows it and boosts it."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import membership

    found = await resolve_target(runtime.ctx, member)
    async with runtime.ctx.sessions.begin() as session:
        row = await membership.decide_join(runtime.ctx, session, hub_handle, found, approve=True)
    click.echo(f"{hub_handle} accepted {row.member.handle} and asked to follow it")


@hub.command("refuse")
@click.argument("hub_handle")
@click.argument("member")
@with_runtime
async def hub_refuse(runtime: Runtime, hub_handle: str, member: str) -> None:
    """Refuse MEMBER's request to join HUB_HANDLE; it is told with a Reject."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import membership

    found = await resolve_target(runtime.ctx, member)
    async with runtime.ctx.sessions.begin() as session:
        row = await membership.decide_join(runtime.ctx, session, hub_handle, found, approve=False)
    click.echo(f"{hub_handle} refused {row.member.handle}")


@hub.command("leave")
@click.argument("member_handle")
@click.argument("hub_target")
@with_runtime
async def hub_leave(runtime: Runtime, member_handle: str, hub_target: str) -> None:
    """Take the coalition MEMBER_HANDLE out of the hub HUB_TARGET (or withdraw its request)."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import membership

    hub = await resolve_target(runtime.ctx, hub_target)
    async with runtime.ctx.sessions.begin() as session:
        await membership.leave_hub(runtime.ctx, session, member_handle, hub)
    click.echo(f"{member_handle} left {hub_target}")


@hub.command("follow-back")
@click.argument("member_handle")
@click.argument("hub_target")
@with_runtime
async def hub_follow_back(runtime: Runtime, member_handle: str, hub_target: str) -> None:
    """MEMBER_HANDLE follows back the hub HUB_TARGET that added it, so the hub's calls reach it."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import two_way

    hub = await resolve_target(runtime.ctx, hub_target)
    async with runtime.ctx.sessions.begin() as session:
        await two_way.follow_back(runtime.ctx, session, member_handle, hub)
    click.echo(f"{member_handle} follows back {hub.handle}: its calls reach {member_handle} from now on")


@hub.command("pause")
@click.argument("hub_handle")
@click.argument("member")
@with_runtime
async def hub_pause(runtime: Runtime, hub_handle: str, member: str) -> None:
    """Stop boosting MEMBER's posts: they wait in the hub's review list until it is resumed."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import service as hubs

    found = await resolve_target(runtime.ctx, member)
    async with runtime.ctx.sessions.begin() as session:
        changed = await hubs.pause_member(runtime.ctx, session, hub_handle, found)
    click.echo(f"{hub_handle} paused {found.handle}" if changed else f"{found.handle} was paused already")


@hub.command("resume")
@click.argument("hub_handle")
@click.argument("member")
@with_runtime
async def hub_resume(runtime: Runtime, hub_handle: str, member: str) -> None:
    """Boost MEMBER's new posts again (what waits in the review list stays there)."""
    from fedihub.federation.actors import resolve_target
    from fedihub.hubs import service as hubs

    found = await resolve_target(runtime.ctx, member)
    async with runtime.ctx.sessions.begin() as session:
        changed = await hubs.resume_member(runtime.ctx, session, hub_handle, found)
    click.echo(f"{hub_handle} resumed {found.handle}" if changed else f"{found.handle} was not paused")


@hub.command("review")
@click.argument("hub_handle")
@with_runtime
async def hub_review(runtime: Runtime, hub_handle: str) -> None:
    """List the posts waiting in HUB_HANDLE's review list: number, member, post, why, since when."""
    from fedihub.hubs import service as hubs

    async with runtime.ctx.sessions() as session:
        actor = await hubs.get_hub(session, hub_handle)
        items = await hubs.held_posts(session, actor.id)
    for item in items:
        click.echo(f"{item.id}  {item.member.handle}  {item.object_uri}  {item.reason_text}  "
                   f"since {item.held_at:%Y-%m-%d %H:%M}")
    if not items:
        click.echo(f"nothing waits in the review list of {hub_handle}")


@hub.command("decide")
@click.argument("hub_handle")
@click.argument("number", type=int)
@click.argument("decision", type=click.Choice(("boost", "discard")))
@with_runtime
async def hub_decide(runtime: Runtime, hub_handle: str, number: int, decision: str) -> None:
    """Boost or discard the post NUMBER (as `fedihub hub review` lists it) of HUB_HANDLE's review list."""
    from fedihub.hubs import service as hubs

    async with runtime.ctx.sessions.begin() as session:
        outcome = await hubs.decide_held(runtime.ctx, session, hub_handle, number, boost=decision == "boost")
    click.echo(f"{hub_handle}: post {number} {outcome}")
