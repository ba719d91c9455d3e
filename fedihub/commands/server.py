"""`fedihub serve`, `worker` and `migrate`: run the server and its queue worker, and bring the schema up to date."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from fedihub.commands.base import configure_logging, load_settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from fedihub.settings import Settings


# How `serve --processes N` tells the processes uvicorn starts what the command line said: they build
# the application from the environment (app_from_environment), as every process of theirs is new.
PROCESS_OPTIONS = "FEDIHUB_SERVE_PROCESS_OPTIONS"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Serve web requests only; run `fedihub worker` separately.")
@click.option("--no-migrate", is_flag=True, help="Do not bring the database schema up to date on start.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Web processes sharing the port, each with its own queue worker unless --no-worker.")
def serve(host: str, port: int, no_worker: bool, no_migrate: bool, processes: int) -> None:
    """Run the web server, with a queue worker in the same process."""
    from fedihub.heap import collector_paused, freeze_startup_heap

    with collector_paused():
        import uvicorn

    settings = load_settings()
    configure_logging(settings)
    log_level = settings.log_level.lower()
    if processes == 1:
        with collector_paused():
            from fedihub.app import create_app

        # When no instance admin exists yet, the lifespan prints a one-time setup link here.
        app = create_app(
            settings, run_worker=not no_worker, migrate=not no_migrate, announce=lambda text: click.echo(text, err=True)
        )
        click.echo(f"fedihub serving {settings.base_url} on http://{host}:{port}", err=True)
        # The web application is built and its modules imported: what is alive now lives until exit.
        freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True, server_header=False)
        return
    # Done once here, before the processes start: each migrating, or each printing its own setup
    # link, would race the others.
    import asyncio
    import json
    import os

    if not no_migrate:
        asyncio.run(_upgrade(settings))
    link = asyncio.run(_first_run_link(settings))
    if link:
        from fedihub.accounts.invites import setup_link_message

        click.echo(setup_link_message(link), err=True)
    os.environ[PROCESS_OPTIONS] = json.dumps({"run_worker": not no_worker})
    click.echo(f"fedihub serving {settings.base_url} on http://{host}:{port} with {processes} processes", err=True)
    uvicorn.run("fedihub.commands.server:app_from_environment", factory=True, workers=processes, host=host,
                port=port, log_level=log_level, proxy_headers=True, server_header=False)


def app_from_environment() -> Starlette:
    """The application of one of `serve --processes N`'s processes (uvicorn calls it in each)."""
    import json
    import os

    from fedihub.heap import collector_paused, freeze_startup_heap

    with collector_paused():
        from fedihub.app import create_app
    settings = load_settings()
    configure_logging(settings)
    options = json.loads(os.environ.get(PROCESS_OPTIONS) or "{}")
    app = create_app(settings, run_worker=bool(options.get("run_worker", True)))
    freeze_startup_heap()
    return app


async def _upgrade(settings: Settings) -> None:
    from fedihub.storage.db import create_engine
    from fedihub.storage.migrate import upgrade_to_head

    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _first_run_link(settings: Settings) -> str | None:
    from fedihub.accounts.invites import find_first_run_link
    from fedihub.federation.context import utc_now
    from fedihub.storage.db import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine).begin() as session:
            return await find_first_run_link(
                session, base_url=settings.base_url, secret_key=settings.secret_key, now=utc_now()
            )
    finally:
        await engine.dispose()


@click.command()
def worker() -> None:
    """Run a queue worker only (start several for scale-out on PostgreSQL)."""
    import asyncio
    import signal

    from fedihub.heap import collector_paused, freeze_startup_heap

    with collector_paused():
        from fedihub.app import open_runtime, run_background

    settings = load_settings()
    configure_logging(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with open_runtime(settings) as runtime:
            freeze_startup_heap()
            await run_background(runtime, stop)

    asyncio.run(run())


@click.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    import asyncio

    asyncio.run(_upgrade(load_settings()))
    click.echo("database is up to date")
