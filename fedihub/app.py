"""The composition root: the only place engines, clients, keys and handlers are built and wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from fedihub import __version__
from fedihub.accounts.invites import find_first_run_link, setup_link_message
from fedihub.errors import ConfigurationError
from fedihub.directory.rosters import refresh_directory
from fedihub.federation.actors import ensure_instance_actor
from fedihub.federation.context import FederationContext, utc_now
from fedihub.federation.handlers import register_core_handlers
from fedihub.federation.processing import Dispatcher
from fedihub.hubs.boosting import register_hub_handlers
from fedihub.hubs.membership import register_membership_handlers
from fedihub.pledges.handlers import register_pledge_handlers
from fedihub.protocol.http import build_http_client
from fedihub.settings import Settings
from fedihub.storage.db import create_engine, create_session_factory
from fedihub.storage.migrate import schema_is_current, upgrade_to_head
from fedihub.web.app import build_web_app
from fedihub.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything one running instance holds: settings, database, federation context, worker."""

    settings: Settings
    engine: AsyncEngine
    ctx: FederationContext
    dispatcher: Dispatcher
    worker: Worker


def user_agent(settings: Settings) -> str:
    # Peers and CDNs refuse empty or odd user agents (interop-spec pitfall P21).
    return f"fedihub/{__version__} (+{settings.base_url}/)"


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    register_core_handlers(dispatcher)
    register_hub_handlers(dispatcher)
    register_membership_handlers(dispatcher)
    register_pledge_handlers(dispatcher)
    return dispatcher


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    http_client: httpx.AsyncClient | None = None,
    *,
    migrate: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[Runtime]:
    """Open the database and HTTP client, make sure the instance actor exists, and close all after."""
    engine = create_engine(settings.database_url)
    own_client = http_client is None
    http = http_client or build_http_client(
        user_agent=user_agent(settings),
        allow_private_addresses=settings.allow_private_addresses,
        transport=settings.http_transport,
        timeout=settings.http_timeout,
    )
    try:
        if migrate:
            await upgrade_to_head(engine)
        elif not await schema_is_current(engine):
            raise ConfigurationError("the database schema is not up to date: run `fedihub migrate` first")
        ctx = FederationContext(
            base_url=settings.base_url,
            sessions=create_session_factory(engine),
            http=http,
            authorized_fetch=settings.authorized_fetch,
            delivery_concurrency=settings.delivery_concurrency,
            clock=clock,
        )
        await ensure_instance_actor(ctx)
        dispatcher = build_dispatcher()
        yield Runtime(
            settings=settings, engine=engine, ctx=ctx, dispatcher=dispatcher,
            worker=Worker(ctx, dispatcher, lease=timedelta(seconds=settings.worker_lease_seconds)),
        )
    finally:
        if own_client:
            await http.aclose()
        await engine.dispose()


async def refresh_rosters_periodically(runtime: Runtime, stop: asyncio.Event) -> None:
    """Read known hubs' rosters for the directory every few hours until stopped (never at start)."""
    every = runtime.settings.roster_refresh_hours * 3600
    while every > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            report = await refresh_directory(runtime.ctx)
            log.info("rosters read for the directory: %s", report)
        except Exception:
            log.exception("reading rosters for the directory failed; trying again next time")


async def run_background(runtime: Runtime, stop: asyncio.Event) -> None:
    """What a worker process does: the queue worker, and the directory's roster reading."""
    await asyncio.gather(runtime.worker.run(stop), refresh_rosters_periodically(runtime, stop))


def create_app(
    settings: Settings,
    http_client: httpx.AsyncClient | None = None,
    *,
    run_worker: bool = False,
    migrate: bool = False,
    clock: Callable[[], datetime] = utc_now,
    announce: Callable[[str], None] | None = None,
) -> Starlette:
    """The ASGI application; with ``run_worker`` the queue worker runs inside the same process.

    ``announce`` (the serve command passes one that writes to stderr) receives the one-time setup
    link when no instance admin exists yet.
    """
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, http_client, migrate=migrate, clock=clock) as runtime:
            app.state.runtime = runtime
            if announce is not None:
                link = await find_first_run_link(
                    runtime.ctx.sessions, base_url=settings.base_url, secret_key=settings.secret_key, now=clock()
                )
                if link:
                    announce(setup_link_message(link))
            stop = asyncio.Event()
            task = asyncio.create_task(run_background(runtime, stop)) if run_worker else None
            try:
                yield
            finally:
                stop.set()
                if task is not None:
                    await task

    return build_web_app(settings, lifespan)
