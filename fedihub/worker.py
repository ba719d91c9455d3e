"""The queue worker: claim → process → record over inbox items, deliveries and jobs; run_once() for tests."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from fedihub.federation.context import FederationContext
from fedihub.federation.delivery import DeliveryRunner
from fedihub.federation.inbox_runner import InboxRunner
from fedihub.federation.jobs import JobFunction, JobRunner, Periodic, ensure_periodic
from fedihub.federation.processing import InboundProcessor

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


class Worker:
    """Processes inbound activities, sends deliveries and runs due jobs until stopped.

    The three queues are three lanes that run side by side: a follower inbox that answers slowly
    holds up neither inbound processing nor jobs, and a slow origin holds up one inbox item only.
    """

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
        inbox_concurrency: int = 8,
        inbox_fetch_timeout: float = 10.0,
        lanes: Mapping[str, Callable[[], Awaitable[int]]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.processor = processor
        self.name = name or worker_name()
        self.lease = lease
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.schedule = list(schedule or [])
        self._scheduled = False
        self.inbox = InboxRunner(
            ctx, processor, owner=self.name, lease=lease, batch_size=batch_size, concurrency=inbox_concurrency,
            fetch_timeout=inbox_fetch_timeout,
        )
        self.deliveries = DeliveryRunner(ctx, owner=self.name, lease=lease, batch_size=batch_size)
        self.jobs = JobRunner(ctx, jobs or {}, owner=self.name, lease=lease)
        # More queues the composition root adds (the mail outbox when mail is on), each a lane of its own.
        self.lanes = dict(lanes or {})

    async def run_once(self) -> int:
        """One pass over the queues and the due jobs; returns how many rows were worked on (0 when idle)."""
        await self._ensure_scheduled()
        processed = await self.inbox.run_once()
        delivered = await self.deliveries.run_once()
        ran = await self.jobs.run_once()
        for run_lane in self.lanes.values():
            ran += await run_lane()
        return processed + delivered + ran

    async def _ensure_scheduled(self) -> None:
        if not self._scheduled:
            async with self.ctx.sessions.begin() as session:
                await ensure_periodic(session, self.schedule, now=self.ctx.clock())
            self._scheduled = True

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                await self._ensure_scheduled()
                break
            except Exception:
                log.exception("scheduling periodic jobs failed; retrying shortly")
                await self._idle(stop)
        lanes = [
            asyncio.create_task(self.inbox.run(stop, self.poll_interval)),
            asyncio.create_task(self.deliveries.run(stop, self.poll_interval)),
            asyncio.create_task(self._lane("jobs", self.jobs.run_once, stop)),
            *(asyncio.create_task(self._lane(name, run_lane, stop)) for name, run_lane in self.lanes.items()),
        ]
        await asyncio.gather(*lanes)
        log.info("worker %s stopped", self.name)

    async def _lane(self, name: str, run_once: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await run_once()
            except Exception:
                log.exception("worker pass over %s failed; retrying shortly", name)
                worked = 0
            if not worked:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until new work is announced, ``stop`` is set, or the poll interval has passed."""
        self.ctx.work_available.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.ctx.work_available.wait())]
        await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
