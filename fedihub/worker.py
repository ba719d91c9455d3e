"""The queue worker: claim → process → record over inbox items and deliveries; run_once() for tests."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.context import FederationContext
from fedihub.federation.delivery import DeliveryRunner
from fedihub.federation.processing import Dispatcher
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import retry_delay
from fedihub.storage.models import InboxItem

log = logging.getLogger(__name__)

# A failed inbound item is retried a few times (the origin may be briefly down while we fetch
# an object or an actor), then kept as failed with its error for an operator to read.
INBOX_MAX_ATTEMPTS = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


class Worker:
    """Processes inbound activities and sends deliveries until stopped."""

    def __init__(
        self,
        ctx: FederationContext,
        dispatcher: Dispatcher,
        *,
        name: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 256,
        poll_interval: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.name = name or worker_name()
        self.lease = lease
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.deliveries = DeliveryRunner(ctx, owner=self.name, lease=lease, batch_size=batch_size)

    async def run_once(self) -> int:
        """One pass over both queues; returns how many rows were worked on (0 when idle)."""
        processed = await self.process_inbox_batch()
        delivered = await self.deliveries.run_once()
        return processed + delivered

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
        ctx = self.ctx
        error: str | None = None
        retry = False
        try:
            await self.dispatcher.process(ctx, item)
        except RemoteUnavailable as exc:
            error, retry = str(exc), True
        except FedihubError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.exception("processing %s %s failed", item.activity_type, item.activity_uri)
            error, retry = f"{type(exc).__name__}: {exc}", True
        async with ctx.sessions.begin() as session:
            row = await session.get(InboxItem, item.id)
            if row is None:
                return
            row.attempts += 1
            row.locked_until = None
            row.locked_by = None
            row.last_error = error
            now = ctx.clock()
            if error is None:
                row.state, row.processed_at = "done", now
            elif retry and row.attempts < INBOX_MAX_ATTEMPTS:
                row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts, rng=ctx.rng))
            else:
                row.state, row.processed_at = "failed", now
                log.warning("giving up on %s %s: %s", item.activity_type, item.activity_uri, error)
