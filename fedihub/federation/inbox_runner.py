"""Processing stored inbox items side by side: bounded concurrency, one actor's items in order, fetch deadlines.

One slow origin must not hold the queue: while an item waits for a document from a server that
answers slowly, the items of other actors go on. Each item's outbound requests share one short
deadline (``fetch_timeout``); past it the fetch fails as RemoteUnavailable and the item is retried
later with backoff, like any unreachable origin. The deadline cuts the network I/O only, never a
database transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import update

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.actors import host_of
from fedihub.federation.context import FederationContext
from fedihub.federation.foreground import INBOX_ITEMS_BESIDE_PAGES
from fedihub.federation.leases import keep_leased
from fedihub.federation.processing import InboundProcessor
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import Outcome, classify_processing_failure, retry_delay
from fedihub.protocol.http import outbound_deadline
from fedihub.storage.models import InboxItem

log = logging.getLogger(__name__)

# A failed inbound item is tried up to this many times in all (the first try and 4 retries: the origin
# may be briefly down while we fetch an object or an actor), then kept as failed with its error.
INBOX_MAX_ATTEMPTS = 5


class InboxRunner:
    """Claims due inbox items and processes up to ``concurrency`` of them at once."""

    def __init__(
        self,
        ctx: FederationContext,
        processor: InboundProcessor,
        *,
        owner: str,
        lease: timedelta,
        batch_size: int = 256,
        concurrency: int = 8,
        fetch_timeout: float = 10.0,
    ) -> None:
        self.ctx = ctx
        self.processor = processor
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size
        self.concurrency = concurrency
        # However it is configured, an item's fetches end well inside the lease of its row.
        self.fetch_timeout = min(fetch_timeout, lease.total_seconds() / 2)
        self._slots = asyncio.Semaphore(concurrency)
        # The last started task of each actor: the next item of that actor waits for it, so a
        # Follow and its Undo, or a Create and its Delete, are never applied out of order.
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._running: dict[int, asyncio.Task[None]] = {}

    @property
    def busy(self) -> int:
        """Items claimed by this runner and not finished yet."""
        return len(self._running)

    async def run_once(self) -> int:
        """Claim one batch and process all of it (side by side); returns how many were claimed."""
        tasks = [self._start(item) for item in await self._claim(self.batch_size)]
        if tasks:
            async with self._leases_kept():
                await asyncio.gather(*tasks)
        return len(tasks)

    async def run(self, stop: asyncio.Event, poll_interval: float) -> None:
        """Keep ``concurrency`` items in progress until ``stop``: a free slot takes the next due item
        at once, instead of the whole batch waiting for its slowest item. While this process answers
        people's page requests, only one item is in progress (foreground.py)."""
        foreground = self.ctx.foreground
        async with self._leases_kept():
            while not stop.is_set():
                free = foreground.width(self.concurrency, INBOX_ITEMS_BESIDE_PAGES) - self.busy
                claimed = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception:
                        log.exception("claiming inbox items failed; retrying shortly")
                for item in claimed:
                    self._start(item)
                if claimed and len(claimed) == free:
                    await self._wait(stop, poll_interval, finished_only=True)
                elif not claimed:
                    await self._wait(stop, poll_interval, finished_only=False)
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _wait(self, stop: asyncio.Event, poll_interval: float, *, finished_only: bool) -> None:
        """Until an item finishes, (when there is room) new work is announced or the pages that held items
        back are answered, or the poll interval."""
        waiters: list[asyncio.Future] = [asyncio.ensure_future(stop.wait())]
        if not finished_only:
            self.ctx.work_available.clear()
            waiters.append(asyncio.ensure_future(self.ctx.work_available.wait()))
        if self.ctx.foreground.busy and self.busy < self.concurrency:
            # Held back for people's pages: the full width comes back as soon as they are answered.
            waiters.append(asyncio.ensure_future(self.ctx.foreground.quiet.wait()))
        running = list(self._running.values())
        try:
            await asyncio.wait([*waiters, *running], timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _claim(self, limit: int) -> list[InboxItem]:
        async with self.ctx.sessions.begin() as session:
            return list(
                await claim_due(
                    session, InboxItem, now=self.ctx.clock(), owner=self.owner, lease=self.lease, limit=limit
                )
            )

    def _leases_kept(self) -> contextlib.AbstractAsyncContextManager[None]:
        return keep_leased(
            self.ctx.sessions, self.ctx.clock, InboxItem, lambda: list(self._running), owner=self.owner,
            lease=self.lease,
        )

    def _start(self, item: InboxItem) -> asyncio.Task[None]:
        previous = self._tails.get(item.actor_uri)
        task = asyncio.create_task(self._run_after(item, previous))
        self._tails[item.actor_uri] = task
        self._running[item.id] = task

        def finished(done: asyncio.Task[None]) -> None:
            self._running.pop(item.id, None)
            if self._tails.get(item.actor_uri) is done:
                del self._tails[item.actor_uri]

        task.add_done_callback(finished)
        return task

    async def _run_after(self, item: InboxItem, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is its own; only its order matters here
        async with self._slots:
            try:
                await self.process(item)
            except Exception:  # recording the outcome failed; the lease runs out and the item is retried
                log.exception("inbox item %s could not be recorded", item.id)

    async def process(self, item: InboxItem) -> None:
        """Process one claimed item and record its outcome (done, retry later, or failed)."""
        error: str | None = None
        retry = False
        fields = {
            "activity_id": item.activity_uri, "activity_type": item.activity_type, "actor": item.actor_uri,
            "remote_host": host_of(item.actor_uri), "attempt": item.attempts + 1,
        }
        try:
            with outbound_deadline(self.fetch_timeout):
                outcome = await self.processor.process(self.ctx, item, owner=self.owner)
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
                update(InboxItem).where(InboxItem.id == item.id, InboxItem.locked_by == self.owner).values(**values),
                execution_options={"synchronize_session": False},
            )
        level = logging.WARNING if outcome == "failed" else logging.INFO
        log.log(level, "inbound %s %s: %s", item.activity_type, outcome, error, extra={**fields, "outcome": outcome})
