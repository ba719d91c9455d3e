"""`fedihub follow`, `unfollow`, `block`, `unblock` and `queue`: a coalition's follows, the servers this
instance refuses, and how deliveries to each server (and e-mail, when it is on) are going."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.command("follow")
@click.argument("local_handle")
@click.argument("target")
@with_runtime
async def follow_command(runtime: Runtime, local_handle: str, target: str) -> None:
    """Make LOCAL_HANDLE follow TARGET (name@host or an actor URL)."""
    from fedihub.federation import follows
    from fedihub.federation.actors import resolve_target

    remote = await resolve_target(runtime.ctx, target)
    async with runtime.ctx.sessions.begin() as session:
        row = await follows.follow(runtime.ctx, session, local_handle, remote)
    click.echo(f"follow request sent to {row.target.handle}; it becomes active when they accept")


@click.command("unfollow")
@click.argument("local_handle")
@click.argument("target")
@with_runtime
async def unfollow_command(runtime: Runtime, local_handle: str, target: str) -> None:
    """Make LOCAL_HANDLE stop following TARGET."""
    from fedihub.federation import follows
    from fedihub.federation.actors import resolve_target

    remote = await resolve_target(runtime.ctx, target)
    async with runtime.ctx.sessions.begin() as session:
        await follows.unfollow(runtime.ctx, session, local_handle, remote)
    click.echo(f"unfollowed {target}")


@click.command("queue")
@with_runtime
async def queue_command(runtime: Runtime) -> None:
    """Show pending, failing and dead deliveries per remote domain, and the mail outbox when mail is on."""
    from fedihub.federation.health import delivery_summary
    from fedihub.mail.outbox import mail_status

    async with runtime.ctx.sessions() as session:
        rows = await delivery_summary(session, now=runtime.ctx.clock())
        mail = await mail_status(session) if runtime.settings.mail is not None else None
    if mail is not None:
        error = f"  last error: {mail.last_error}" if mail.last_error else ""
        click.echo(
            f"mail: {mail.pending} pending ({mail.retrying} retrying), {mail.sent} sent, {mail.failed} failed{error}"
        )
    if not rows:
        click.echo("no deliveries yet")
        return
    click.echo(f"{'domain':40} {'pending':>8} {'failing':>8} {'dead':>6} {'delivered':>10}")
    for row in rows:
        note = f"  paused until {row.paused_until:%Y-%m-%d %H:%M} UTC" if row.paused_until else ""
        error = f"  last error: {row.last_error}" if row.last_error and (row.failing or row.dead) else ""
        click.echo(f"{row.domain:40} {row.pending:>8} {row.failing:>8} {row.dead:>6} {row.delivered:>10}{note}{error}")


@click.command("block")
@click.argument("domain")
@click.option("--reason", default=None, help="Why, for other admins.")
@with_runtime
async def block_command(runtime: Runtime, domain: str, reason: str | None) -> None:
    """Stop federating with DOMAIN (and its subdomains)."""
    from fedihub.federation import blocks

    async with runtime.ctx.sessions.begin() as session:
        added = await blocks.block_domain(runtime.ctx, session, domain, reason)
    if added:
        click.echo(f"blocked {blocks.normalise_domain(domain)}")
    else:
        click.echo(f"{blocks.normalise_domain(domain)} was already blocked")


@click.command("unblock")
@click.argument("domain")
@with_runtime
async def unblock_command(runtime: Runtime, domain: str) -> None:
    """Federate with DOMAIN again."""
    from fedihub.federation import blocks

    async with runtime.ctx.sessions.begin() as session:
        removed = await blocks.unblock_domain(runtime.ctx, session, domain)
    if removed:
        click.echo(f"unblocked {blocks.normalise_domain(domain)}")
    else:
        click.echo(f"{blocks.normalise_domain(domain)} was not blocked")
