"""The composition root: the only place engines, clients, keys and handlers are built and wired."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from fedihub import __version__
from fedihub.coalitions.actor_profile import profile_properties, read_remote_profile
from fedihub.coalitions.banners import banner_properties
from fedihub.directory.listing import read_sighting
from fedihub.errors import ConfigurationError
from fedihub.federation.actor_parts import ActorParts
from fedihub.federation.actors import ensure_instance_actor
from fedihub.federation.context import FederationContext, utc_now
from fedihub.federation.inbox_writer import InboxWriter
from fedihub.federation.intake_limits import IntakeLimits, IntakeRates
from fedihub.federation.key_fetches import KeyFetchGuard, KeyFetchRates
from fedihub.federation.telemetry import NoTelemetry, Telemetry
from fedihub.hubs.settings import hub_properties, read_remote_hub
from fedihub.moderation import actor_blocks
from fedihub.settings import Settings
from fedihub.storage.content_generation import GenerationReader, build_generation_reader, track_content_writes
from fedihub.storage.db import create_engine, create_read_session_factory, create_session_factory
from fedihub.storage.migrate import schema_is_current, upgrade_to_head
from fedihub.storage.probe import database_answers

# The inbound routes, the jobs, the notices, the mail runner and the worker are imported inside the
# functions that build them: a command that opens a runtime to store a post uses none of them, and
# importing them all is most of its start (bench/startup.py).
if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from fedihub.federation.jobs import JobFunction, Periodic
    from fedihub.federation.processing import InboundProcessor
    from fedihub.hubs.limits import HubLimits
    from fedihub.notices.service import Notices
    from fedihub.pledges.mirror import MirrorLimits
    from fedihub.worker import Worker

log = logging.getLogger(__name__)

RETENTION_JOB = "retention"
SUBSCRIPTION_PRUNE_JOB = "subscriptions.prune"
# How often copies of remote roll-ups that went stale are re-read from their origins.
ROLLUP_SWEEP_EVERY = timedelta(minutes=15)


@dataclass
class Runtime:
    """Everything one running instance holds: settings, database, federation context, worker.

    The inbound processor and the worker are built on first use: a command that stores a post or a
    pledge never processes an inbox item or runs a job (those are the worker's, later).
    """

    settings: Settings
    engine: AsyncEngine
    ctx: FederationContext
    # Stores what the inboxes verified, a batch per transaction (its task runs as long as the runtime).
    inbox_writer: InboxWriter
    # Whether the database answers within a timeout in seconds: GET /healthz asks it, so the web
    # layer never reaches into storage itself.
    database_answers: Callable[[float], Awaitable[bool]]
    # The number every write of shown content raises (None: unknown now); the cache of rendered
    # public answers asks it before serving one.
    content_generation: GenerationReader

    @functools.cached_property
    def processor(self) -> InboundProcessor:
        return build_inbound_processor(self.settings)

    @functools.cached_property
    def worker(self) -> Worker:
        return build_worker(self.settings, self.ctx, self.processor)


def user_agent(settings: Settings) -> str:
    # Peers and CDNs refuse empty or odd user agents (interop-spec pitfall P21).
    return f"fedihub/{__version__} (+{settings.base_url}/)"


def build_actor_parts() -> ActorParts:
    """What the domain packages own of an actor, as federation publishes and reads it.

    The directory reads a sighting first, so the coalition profile's reader knows whether an
    organizer's import described the actor; the profile's @context comes before the hub's.
    """
    return ActorParts(
        document=(profile_properties, hub_properties, banner_properties),
        readers=(read_sighting, read_remote_profile, read_remote_hub),
    )


def hub_limits(settings: Settings) -> HubLimits:
    from fedihub.hubs.limits import HubLimits

    return HubLimits(
        boosts_per_member_hour=settings.hub_boosts_per_member_hour,
        max_addressed_groups=settings.hub_max_addressed_groups,
    )


def mirror_limits(settings: Settings) -> MirrorLimits:
    """How much of a remote call's pledges collection this instance reads and keeps."""
    from fedihub.pledges.mirror import MirrorLimits

    return MirrorLimits(max_items=settings.pledge_mirror_max_items, max_pages=settings.pledge_mirror_max_pages)


def build_notices(settings: Settings) -> Notices:
    """Organizers' notices, e-mailed through the outbox when mail is on."""
    from fedihub.i18n.catalogues import Catalogues
    from fedihub.notices.letters import Letters
    from fedihub.notices.service import Notices

    letters = Letters(settings.base_url, Catalogues(), settings.language)
    return Notices(settings.mail, settings.base_url, letters)


def build_inbound_processor(settings: Settings | None = None) -> InboundProcessor:
    """The one table of inbound routes: federation's own, and those the domain packages contribute.

    Each package also subscribes to the inbound events it reacts to (hubs boost a member's new call,
    pledges count the hubs carrying a call); see federation/routing.py and federation/events.py.
    """
    from fedihub.coalitions import replies
    from fedihub.federation.events import InboundEvents
    from fedihub.federation.inbound_content import content_routes
    from fedihub.federation.inbound_follows import follow_routes
    from fedihub.federation.processing import InboundProcessor
    from fedihub.federation.routing import RouteTable
    from fedihub.hubs import boosting, mentions
    from fedihub.hubs.membership_inbound import membership_routes
    from fedihub.moderation.inbound import moderation_routes
    from fedihub.notices.subscribers import NoticeSubscribers
    from fedihub.pledges import vouching
    from fedihub.pledges.inbound import pledge_routes
    from fedihub.subscriptions import triggers as subscription_triggers

    settings = settings if settings is not None else Settings()  # tests list the routes with the defaults
    events = InboundEvents()
    routes = RouteTable([
        *follow_routes(events), *content_routes(events), *membership_routes(events),
        *pledge_routes(
            events, mirror_limits(settings),
            vouching.PledgeLimits(unvouched_per_server=settings.unvouched_pledges_per_server),
        ),
        *moderation_routes(reports_per_host_hour=settings.reports_per_host_hour),
    ])
    boosting.subscribe_boosting(events, hub_limits(settings))
    # After the hubs': a hub mentioned by a member it follows has boosted (or held) the post already.
    mentions.subscribe_mentions(events, mentions.MentionLimits(
        announces_per_member_hour=settings.member_announces_per_hour,
        max_addressed_groups=settings.hub_max_addressed_groups,
    ))
    replies.subscribe_replies(events, replies.ReplyLimits(per_actor_hour=settings.replies_per_actor_hour))
    subscription_triggers.subscribe_mailing(events)
    # Last: what organizers are told reads the state the other subscribers left (a member's follow marked).
    NoticeSubscribers(build_notices(settings)).subscribe(events)
    return InboundProcessor(routes)


def build_intake_limits(settings: Settings) -> IntakeLimits:
    """What one remote host and one actor may send to the inboxes of this process per window."""
    return IntakeLimits(IntakeRates(
        window=settings.rate_window_seconds,
        host_requests=settings.inbox_host_requests, host_bytes=settings.inbox_host_bytes,
        actor_requests=settings.inbox_actor_requests, actor_bytes=settings.inbox_actor_bytes,
    ))


def build_key_fetch_guard(settings: Settings) -> KeyFetchGuard:
    """How many signing-key fetches one remote host can cause per window, and how long failures are kept."""
    return KeyFetchGuard(KeyFetchRates(
        per_host=settings.key_fetches_per_host, window=settings.rate_window_seconds,
        remember=settings.key_failure_seconds,
    ))


def build_jobs(settings: Settings) -> tuple[dict[str, JobFunction], list[Periodic]]:
    """What each kind of job runs, and which of them run periodically (claimed once across workers)."""
    from fedihub.coalitions import remote_images
    from fedihub.coalitions.remote_image_sweep import (
        REMOTE_IMAGE_SWEEP_EVERY,
        REMOTE_IMAGE_SWEEP_JOB,
        sweep_remote_images,
    )
    from fedihub.directory.rosters import ROSTER_JOB, run_roster_job
    from fedihub.federation.jobs import Periodic
    from fedihub.federation.retention import RetentionPolicy, prune
    from fedihub.hubs import boosting, two_way
    from fedihub.i18n.catalogues import Catalogues
    from fedihub.notices import digest, reminders
    from fedihub.pledges import mirror, vouch_check, vouching
    from fedihub.pledges import notices as pledge_notices
    from fedihub.subscriptions import fanout
    from fedihub.subscriptions import service as subscriptions
    from fedihub.subscriptions import triggers as subscription_triggers
    from fedihub.subscriptions.mailing import Mailing

    policy = RetentionPolicy(
        done_for=timedelta(days=settings.retention_days), failed_for=timedelta(days=settings.failed_retention_days)
    )

    async def run_retention(ctx: FederationContext, payload: object) -> None:
        await prune(ctx, policy)

    async def prune_subscriptions(ctx: FederationContext, payload: object) -> None:
        async with ctx.sessions.begin() as session:
            await subscriptions.prune_pending(session, now=ctx.clock())

    async def sweep_pictures(ctx: FederationContext, payload: object) -> None:
        await sweep_remote_images(ctx)

    notices = build_notices(settings)

    functions: dict[str, JobFunction] = {
        ROSTER_JOB: run_roster_job,
        RETENTION_JOB: run_retention,
        mirror.REFRESH_JOB: mirror.refresh_job(mirror_limits(settings)),
        mirror.CONFIRM_JOB: mirror.run_confirm,
        mirror.STALE_SWEEP_JOB: mirror.run_stale_sweep,
        pledge_notices.FOLDED_NOTICE_JOB: pledge_notices.run_folded_notice,
        vouching.VOUCH_JOB: vouch_check.run_vouch_check,
        vouch_check.VOUCH_SWEEP_JOB: vouch_check.run_vouch_sweep,
        boosting.RETRACTION_CHECK: boosting.run_retraction_check,
        two_way.SWEEP_JOB: two_way.run_sweep,
        subscription_triggers.FANOUT_JOB: fanout.fanout_job(
            Mailing.from_settings(settings, __version__, catalogues=Catalogues())
        ),
        SUBSCRIPTION_PRUNE_JOB: prune_subscriptions,
        REMOTE_IMAGE_SWEEP_JOB: sweep_pictures,
        remote_images.FETCH_JOB: remote_images.fetch_remote_image,
        digest.DIGEST_JOB: digest.digest_job(notices),
        reminders.REMINDER_JOB: reminders.reminder_job(notices),
    }
    schedule = [
        Periodic(ROSTER_JOB, timedelta(hours=settings.roster_refresh_hours)),
        Periodic(RETENTION_JOB, timedelta(days=1)),
        Periodic(mirror.STALE_SWEEP_JOB, ROLLUP_SWEEP_EVERY),
        Periodic(vouch_check.VOUCH_SWEEP_JOB, timedelta(hours=vouch_check.VOUCH_SWEEP_EVERY_HOURS)),
        # Members that approved a hub's follow by hand follow it back here (and the backfill, once).
        Periodic(two_way.SWEEP_JOB, timedelta(hours=two_way.SWEEP_EVERY_HOURS)),
        # Unconfirmed e-mail subscriptions are forgotten after a week.
        Periodic(SUBSCRIPTION_PRUNE_JOB, timedelta(hours=6)),
        # Peers' pictures cached for remote calls: gone once no call shows them, or a month after fetching.
        Periodic(REMOTE_IMAGE_SWEEP_JOB, REMOTE_IMAGE_SWEEP_EVERY),
        # Organizers' daily digest (nothing without mail), and the day-after reminders to report back.
        Periodic(digest.DIGEST_JOB, digest.DIGEST_EVERY),
        Periodic(reminders.REMINDER_JOB, reminders.REMINDER_EVERY),
    ]
    return functions, schedule


def build_lanes(
    settings: Settings, ctx: FederationContext, *, owner: str
) -> dict[str, Callable[[], Awaitable[int]]]:
    """The worker's queues beyond inbox, deliveries and jobs: the mail outbox, when mail is on."""
    mail = settings.mail
    if mail is None:
        return {}
    from fedihub.mail.runner import MailRunner

    runner = MailRunner(
        ctx, mail, owner=owner, lease=timedelta(seconds=settings.worker_lease_seconds),
        deadline=settings.mail_timeout,
    )
    return {"mail": runner.run_once}


def build_worker(settings: Settings, ctx: FederationContext, processor: InboundProcessor) -> Worker:
    """The queue worker: the inbox, the deliveries, the jobs and the lanes, under one name."""
    from fedihub.worker import Worker, worker_name

    functions, schedule = build_jobs(settings)
    name = worker_name()
    return Worker(
        ctx, processor, jobs=functions, schedule=schedule, name=name,
        lanes=build_lanes(settings, ctx, owner=name),
        lease=timedelta(seconds=settings.worker_lease_seconds),
        inbox_concurrency=settings.inbox_concurrency, inbox_fetch_timeout=settings.inbox_fetch_timeout,
    )


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    http_client: httpx.AsyncClient | None = None,
    *,
    migrate: bool = False,
    clock: Callable[[], datetime] = utc_now,
    telemetry: Telemetry | None = None,
) -> AsyncIterator[Runtime]:
    """Open the database, make sure the instance actor exists, and close all after.

    The HTTP client (``http_client``, or one built from ``settings``) is opened at its first use
    (FederationContext.http), so a command that never fetches never loads the HTTP stack.
    """
    engine = create_engine(settings.database_url)
    built: list[httpx.AsyncClient] = []

    def open_http_client() -> httpx.AsyncClient:
        if http_client is not None:
            return http_client
        from fedihub.protocol.http import build_http_client

        built.append(build_http_client(
            user_agent=user_agent(settings),
            allow_private_addresses=settings.allow_private_addresses,
            transport=settings.http_transport,
            timeout=settings.http_timeout,
            deadline=settings.http_deadline,
            max_response_bytes=settings.http_max_response_bytes,
        ))
        return built[-1]

    try:
        if migrate:
            await upgrade_to_head(engine)
        elif not await schema_is_current(engine):
            raise ConfigurationError("the database schema is not up to date: run `fedihub migrate` first")
        # From here on, every write of shown content tells the caches of rendered answers.
        track_content_writes(engine)
        ctx = FederationContext(
            base_url=settings.base_url,
            sessions=create_session_factory(engine),
            read_sessions=create_read_session_factory(engine),
            http_factory=open_http_client,
            authorized_fetch=settings.authorized_fetch,
            delivery_concurrency=settings.delivery_concurrency,
            delivery_timeout=settings.delivery_timeout,
            pledge_notice_window=timedelta(seconds=settings.pledge_notice_window_seconds),
            clock=clock,
            actor_parts=build_actor_parts(),
            # Blocks of single actors are moderation's; federation asks through this hook.
            refuses=actor_blocks.refuses,
            intake_limits=build_intake_limits(settings),
            key_fetches=build_key_fetch_guard(settings),
            telemetry=telemetry or NoTelemetry(),
        )
        await ensure_instance_actor(ctx)
        sessions = ctx.sessions

        async def probe(timeout: float) -> bool:
            return await database_answers(sessions, timeout=timeout)

        async with InboxWriter(ctx).running() as inbox_writer:
            yield Runtime(
                settings=settings, engine=engine, ctx=ctx,
                inbox_writer=inbox_writer,
                database_answers=probe,
                content_generation=build_generation_reader(engine, ctx.reading),
            )
    finally:
        for client in built:
            await client.aclose()
        await engine.dispose()


async def run_background(runtime: Runtime, stop: asyncio.Event) -> None:
    """What a worker process does: the queues, and the periodic jobs when they are due."""
    await runtime.worker.run(stop)


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
    # Here rather than at the top: the commands open a runtime and never serve pages or metrics.
    from fedihub.metrics import Metrics
    from fedihub.web.app import build_web_app

    # Built only when an operator asked for /metrics (FEDIHUB_METRICS_TOKEN); counts this process.
    metrics = Metrics() if settings.metrics_token else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, http_client, migrate=migrate, clock=clock, telemetry=metrics) as runtime:
            # Commands load the instance actor's signer when they first sign; a server signs fetches
            # from its first minutes on, so an unreadable or damaged key stops it here, not then.
            runtime.ctx.load_instance_auth()
            app.state.runtime = runtime
            if announce is not None:
                from fedihub.accounts.invites import find_first_run_link, setup_link_message

                async with runtime.ctx.sessions.begin() as session:
                    link = await find_first_run_link(
                        session, base_url=settings.base_url, secret_key=settings.secret_key, now=clock()
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

    return build_web_app(settings, lifespan, metrics=metrics)
