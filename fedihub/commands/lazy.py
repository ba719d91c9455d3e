"""A command group whose subcommands are imported only when a command line names them or help lists them."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from fedihub.commands.base import FriendlyGroup


class LazyGroup(FriendlyGroup):
    """``lazy_commands`` maps each subcommand's name to ``"package.module:attribute"``.

    `fedihub post …` then imports the module of `post` and no other, and `fedihub --help` imports
    only the command modules, which import the heavy layers inside the commands' bodies.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(load_command(self.lazy_commands[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


def load_command(target: str) -> click.Command:
    """The click command at ``"package.module:attribute"``."""
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command
