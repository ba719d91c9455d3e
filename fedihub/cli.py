"""The `fedihub` command: the table of its subcommands, each imported only when it is named or listed.

The subcommands live in commands/; each imports the database, the federation and the web layers
inside its body, so `fedihub --help` and a mistyped option answer at once.
"""

from __future__ import annotations

import click

from fedihub.commands.lazy import LazyGroup

# Subcommand → "module:attribute" of its click command (or group).
COMMANDS: dict[str, str] = {
    "serve": "fedihub.commands.server:serve",
    "worker": "fedihub.commands.server:worker",
    "migrate": "fedihub.commands.server:migrate",
    "admin": "fedihub.commands.admin:admin",
    "coalition": "fedihub.commands.coalitions:coalition",
    "post": "fedihub.commands.posts:post_command",
    "delete-post": "fedihub.commands.posts:delete_post_command",
    "call": "fedihub.commands.calls:call",
    "hub": "fedihub.commands.hubs:hub",
    "site": "fedihub.commands.site:site",
    "directory": "fedihub.commands.directory:directory",
    "follow": "fedihub.commands.network:follow_command",
    "unfollow": "fedihub.commands.network:unfollow_command",
    "block": "fedihub.commands.network:block_command",
    "unblock": "fedihub.commands.network:unblock_command",
    "queue": "fedihub.commands.network:queue_command",
    "pledge": "fedihub.commands.pledges:pledge",
    "withdraw-pledge": "fedihub.commands.pledges:pledge_withdraw",
    "report-back": "fedihub.commands.pledges:pledge_report",
    "rollup": "fedihub.commands.pledges:pledge_show",
    "lookup": "fedihub.commands.discovery:lookup",
    "import": "fedihub.commands.discovery:import_csv",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
@click.version_option(package_name="fedihub")
def main() -> None:
    """fedihub: coalitions as ActivityPub groups, federated with Mastodon and the fediverse.

    Configuration comes from FEDIHUB_* environment variables (see the README).
    """
