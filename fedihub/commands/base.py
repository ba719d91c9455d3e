"""What every `fedihub` command shares: settings, logging, an open runtime, one-line errors."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fedihub.errors import FedihubError
from fedihub.logs import FORMAT, FieldsFormatter

if TYPE_CHECKING:
    from fedihub.settings import Settings

T = TypeVar("T")
log = logging.getLogger("fedihub")


def load_settings() -> Settings:
    # Here rather than at the top: `fedihub --help` reads no settings.
    from fedihub.settings import Settings

    return Settings.from_env()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter(FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    # Alembic announces its dialect on every schema check; that is noise for people.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def with_runtime(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command body with an open runtime; errors become one line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        # Imported when a command runs, not when `fedihub --help` lists it: the runtime loads
        # the database layer, the HTTP clients and every domain package.
        import asyncio

        from fedihub.heap import collector_paused

        with collector_paused():
            from fedihub.app import open_runtime

        settings = load_settings()
        configure_logging(settings)

        async def run() -> T:
            async with open_runtime(settings) as runtime:
                return await func(runtime, *args, **kwargs)

        return asyncio.run(run())

    return wrapper


class FriendlyGroup(click.Group):
    """Turns fedihub errors into one clear line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FedihubError as exc:
            click.echo(f"error: {exc.public_message}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            # Usually the database or the network is unreachable: say so without a traceback.
            log.debug("command failed", exc_info=True)
            click.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
            ctx.exit(1)


def is_unreachable(exc: Exception) -> bool:
    """Whether a command failed on the operating system or the database rather than on a bug."""
    # Here rather than at the top: `fedihub --help` never loads the database layer.
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, (OSError, SQLAlchemyError))
