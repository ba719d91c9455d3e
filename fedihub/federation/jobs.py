"""Background jobs as rows: enqueued once by name, claimed with a lease, periodic ones rescheduled.

Periodic work (reading hubs' rosters, refreshing remote roll-ups, pruning old rows) and follow-ups an
inbound handler cannot do inside its transaction (a network check) are rows of the ``jobs`` table,
claimed like inbox items and deliveries. However many workers run, each due job runs once; a worker
that dies mid-job loses nothing, the job is claimable again when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.context import FederationContext
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import retry_delay
from fedihub.storage.models import Job

log = logging.getLogger(__name__)

# A failing one-off job is tried this many times, then kept as failed with its error for an operator.
MAX_ATTEMPTS = 5

# What a job does, given the runtime's context and the job's payload. It is an edge: it opens its
# own short transactions and may do network I/O between them.
JobFunction = Callable[[FederationContext, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Periodic:
    """A job that runs every ``every``; ``None`` or zero turns it off (its row is removed)."""

    kind: str
    every: timedelta | None


def key_of(uri: str) -> str:
    """A job key naming one URI: a job's name (kind:key) has at most 2,048 characters, as a URI may
    have, so a long one is hashed."""
    return uri if len(uri) <= 1_900 else "sha256:" + hashlib.sha256(uri.encode()).hexdigest()


def _insert(session: AsyncSession) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Job)


async def enqueue(
    session: AsyncSession, kind: str, *, key: str | None = None, payload: Mapping[str, Any] | None = None,
    at: datetime,
) -> None:
    """Add a one-off job named ``kind:key``; one already waiting under that name is left as it is.

    The caller commits: a job enqueued by an inbound handler exists exactly when the handler's other
    effects do.
    """
    name = f"{kind}:{key}" if key else kind
    insert = _insert(session)
    values = {
        "name": name, "kind": kind, "payload": dict(payload or {}), "state": "pending", "attempts": 0,
        "next_attempt_at": at, "created_at": at,
    }
    statement = insert.values(**values).on_conflict_do_update(
        index_elements=[Job.name],
        # Re-arm a job that failed for good; one that is pending (or running) already covers this.
        set_={"state": "pending", "attempts": 0, "payload": values["payload"], "next_attempt_at": at,
              "last_error": None},
        where=Job.state != "pending",
    )
    await session.execute(statement)
    # A running job is "pending" too, but it may have read what this enqueue is about already: it runs
    # once more when it is done instead.
    await session.execute(
        update(Job).where(Job.name == name, Job.state == "pending", Job.locked_by.is_not(None))
        .values(rerun=True),
        execution_options={"synchronize_session": False},
    )


async def ensure_periodic(session: AsyncSession, schedule: list[Periodic], *, now: datetime) -> None:
    """Make the jobs table hold exactly the periodic jobs of ``schedule``; never due at once.

    A new periodic job first runs one period after it was scheduled (starting a process must not
    start a crawl); a changed period applies from now.
    """
    for periodic in schedule:
        row = await session.scalar(select(Job).where(Job.name == periodic.kind))
        every = periodic.every or timedelta(0)
        seconds = every.total_seconds()
        if seconds <= 0:
            if row is not None:
                await session.delete(row)
            continue
        if row is None:
            await session.execute(
                _insert(session).values(
                    name=periodic.kind, kind=periodic.kind, payload={}, every_seconds=seconds, state="pending",
                    attempts=0, next_attempt_at=now + every, created_at=now,
                ).on_conflict_do_nothing(index_elements=[Job.name])
            )
        elif row.every_seconds != seconds:
            row.every_seconds = seconds
            row.state = "pending"
            row.next_attempt_at = min(row.next_attempt_at, now + every)


class JobRunner:
    """Claims due jobs and runs them with the functions registered for their kinds."""

    def __init__(
        self, ctx: FederationContext, functions: Mapping[str, JobFunction], *, owner: str, lease: timedelta,
        batch_size: int = 16,
    ) -> None:
        self.ctx = ctx
        self.functions = functions
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size

    async def run_once(self) -> int:
        ctx = self.ctx
        async with ctx.sessions.begin() as session:
            jobs = list(
                await claim_due(session, Job, now=ctx.clock(), owner=self.owner, lease=self.lease,
                                limit=self.batch_size)
            )
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def _run(self, job: Job) -> None:
        function = self.functions.get(job.kind)
        error: str | None = None
        retry = False
        heartbeat = asyncio.create_task(self._keep_lease(job.id))
        try:
            if function is None:
                raise FedihubError(f"no job function for {job.kind!r}")
            await function(self.ctx, job.payload or {})
        except RemoteUnavailable as exc:
            error, retry = str(exc), True
        except FedihubError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.exception("job %s failed", job.name)
            error, retry = f"{type(exc).__name__}: {exc}", True
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        await self._record(job, error, retry)

    async def _keep_lease(self, job_id: int) -> None:
        """Long jobs (a roster crawl) outlive one lease: extend it while the job runs."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.ctx.sessions.begin() as session:
                await session.execute(
                    update(Job).where(Job.id == job_id, Job.locked_by == self.owner)
                    .values(locked_until=self.ctx.clock() + self.lease),
                    execution_options={"synchronize_session": False},
                )

    async def _record(self, job: Job, error: str | None, retry: bool) -> None:
        ctx = self.ctx
        now = ctx.clock()
        async with ctx.sessions.begin() as session:
            row = await session.scalar(select(Job).where(Job.id == job.id, Job.locked_by == self.owner))
            if row is None:
                return  # our lease ran out and another worker owns the job now: it records
            row.locked_until, row.locked_by, row.last_error = None, None, error
            attempts = row.attempts + 1
            if row.every_seconds:
                # A periodic job never dies: a failure waits a little, success a whole period.
                failed_soon = error is not None and retry and attempts < MAX_ATTEMPTS
                delay = retry_delay(attempts, rng=ctx.rng) if failed_soon else row.every_seconds
                row.attempts = attempts if failed_soon else 0
                row.next_attempt_at = now + timedelta(seconds=delay)
                row.finished_at = now
                if error is not None:
                    log.warning("periodic job %s failed: %s", row.name, error)
            elif row.rerun:
                # Asked for again while it ran: once more, at once and with a fresh count of attempts.
                row.rerun, row.attempts, row.next_attempt_at = False, 0, now
            elif error is None:
                await session.execute(delete(Job).where(Job.id == row.id))
            elif retry and attempts < MAX_ATTEMPTS:
                row.attempts = attempts
                row.next_attempt_at = now + timedelta(seconds=retry_delay(attempts, rng=ctx.rng))
            else:
                row.attempts, row.state, row.finished_at = attempts, "failed", now
                log.warning("giving up on job %s: %s", row.name, error)
