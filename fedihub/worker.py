"""The queue worker: claim → process → record over inbox items, deliveries and jobs; run_once() for tests."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import update

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.actors import host_of
from fedihub.federation.context import FederationContext
from fedihub.federation.delivery import DeliveryRunner
from fedihub.federation.jobs import JobFunction, JobRunner, Periodic, ensure_periodic
from fedihub.federation.processing import InboundProcessor
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import Outcome, classify_processing_failure, retry_delay
from fedihub.storage.models import InboxItem

log = logging.getLogger(__name__)

# A failed inbound item is tried up to this many times in all (the first try and 4 retries: the origin
# may be briefly down while we fetch an object or an actor), then kept as failed with its error.
INBOX_MAX_ATTEMPTS = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


class Worker:
    """Processes inbound activities, sends deliveries and runs due jobs until stopped."""

    def __init__(
        self,
        ctx: FederationContext,
        processor: InboundProcessor,
        *,
        jobs: Mapping[str, JobFunction] | None = None,
        schedule: list[Periodic] | None = None,
        name: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 256,
        poll_interval: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.processor = processor
        self.name = name or worker_name()
        self.lease = lease
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.schedule = list(schedule or [])
        self._scheduled = False
        self.deliveries = DeliveryRunner(ctx, owner=self.name, lease=lease, batch_size=batch_size)
        self.jobs = JobRunner(ctx, jobs or {}, owner=self.name, lease=lease)

    async def run_once(self) -> int:
        """One pass over the queues and the due jobs; returns how many rows were worked on (0 when idle)."""
        if not self._scheduled:
            async with self.ctx.sessions.begin() as session:
                await ensure_periodic(session, self.schedule, now=self.ctx.clock())
            self._scheduled = True
        processed = await self.process_inbox_batch()
        delivered = await self.deliveries.run_once()
        ran = await self.jobs.run_once()
        return processed + delivered + ran

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("worker pass failed; retrying shortly")
                worked = 0
            if worked:
                continue
            self.ctx.work_available.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.ctx.work_available.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        log.info("worker %s stopped", self.name)

    async def process_inbox_batch(self) -> int:
        ctx = self.ctx
        async with ctx.sessions.begin() as session:
            items = list(
                await claim_due(
                    session, InboxItem, now=ctx.clock(), owner=self.name, lease=self.lease, limit=self.batch_size
                )
            )
        for item in items:
            await self._process(item)
        return len(items)

    async def _process(self, item: InboxItem) -> None:
        error: str | None = None
        retry = False
        fields = {
            "activity_id": item.activity_uri, "activity_type": item.activity_type, "actor": item.actor_uri,
            "remote_host": host_of(item.actor_uri), "attempt": item.attempts + 1,
        }
        try:
            outcome = await self.processor.process(self.ctx, item, owner=self.name)
        except RemoteUnavailable as exc:
            error, retry = str(exc), True
        except FedihubError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.exception("processing %s %s failed", item.activity_type, item.activity_uri, extra=fields)
            error, retry = f"{type(exc).__name__}: {exc}", classify_processing_failure(exc) is Outcome.RETRY
        else:
            log.info("inbound %s %s", item.activity_type, outcome.value, extra={**fields, "outcome": outcome.value})
            return
        await self._record_failure(item, error, retry, fields)

    async def _record_failure(self, item: InboxItem, error: str, retry: bool, fields: dict) -> None:
        ctx = self.ctx
        now = ctx.clock()
        attempts = item.attempts + 1
        values: dict = {"attempts": attempts, "locked_until": None, "locked_by": None, "last_error": error}
        if retry and attempts < INBOX_MAX_ATTEMPTS:
            values["next_attempt_at"] = now + timedelta(seconds=retry_delay(attempts, rng=ctx.rng))
            outcome = "retry"
        else:
            values.update(state="failed", processed_at=now)
            outcome = "failed"
        async with ctx.sessions.begin() as session:
            # Only while we still hold the lease: otherwise the worker that took the item over records.
            await session.execute(
                update(InboxItem).where(InboxItem.id == item.id, InboxItem.locked_by == self.name).values(**values),
                execution_options={"synchronize_session": False},
            )
        level = logging.WARNING if outcome == "failed" else logging.INFO
        log.log(level, "inbound %s %s: %s", item.activity_type, outcome, error, extra={**fields, "outcome": outcome})
