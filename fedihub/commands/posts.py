"""`fedihub post` and `delete-post`: a coalition's announcements from scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.command("post")
@click.argument("local_handle")
@click.option("--text", required=True, help="The announcement (Markdown).")
@with_runtime
async def post_command(runtime: Runtime, local_handle: str, text: str) -> None:
    """Publish a public announcement (a Note) from LOCAL_HANDLE to its followers."""
    from fedihub.coalitions import service

    async with runtime.ctx.sessions.begin() as session:
        row = await service.post_note(runtime.ctx, session, local_handle, text)
    click.echo(row.uri)


@click.command("delete-post")
@click.argument("url")
@with_runtime
async def delete_post_command(runtime: Runtime, url: str) -> None:
    """Delete the post at URL; followers' servers get a Delete."""
    from fedihub.coalitions import service

    async with runtime.ctx.sessions.begin() as session:
        await service.delete_object(runtime.ctx, session, url)
    click.echo(f"deleted {url}")
