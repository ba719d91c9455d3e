"""`fedihub serve`, `worker` and `migrate`: run the server and its queue worker, and bring the schema up to date."""

from __future__ import annotations

import click

from fedihub.commands.base import configure_logging, load_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Serve web requests only; run `fedihub worker` separately.")
@click.option("--no-migrate", is_flag=True, help="Do not bring the database schema up to date on start.")
def serve(host: str, port: int, no_worker: bool, no_migrate: bool) -> None:
    """Run the web server, with a queue worker in the same process."""
    import uvicorn

    from fedihub.app import create_app
    from fedihub.heap import freeze_startup_heap

    settings = load_settings()
    configure_logging(settings)
    # When no instance admin exists yet, the lifespan prints a one-time setup link here.
    app = create_app(
        settings, run_worker=not no_worker, migrate=not no_migrate, announce=lambda text: click.echo(text, err=True)
    )
    click.echo(f"fedihub serving {settings.base_url} on http://{host}:{port}", err=True)
    # The web application is built and its modules imported: what is alive now lives until exit.
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=True,
                server_header=False)


@click.command()
def worker() -> None:
    """Run a queue worker only (start several for scale-out on PostgreSQL)."""
    import asyncio
    import signal

    from fedihub.app import open_runtime, run_background
    from fedihub.heap import freeze_startup_heap

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

    from fedihub.storage.db import create_engine
    from fedihub.storage.migrate import upgrade_to_head

    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo("database is up to date")
