"""Delivering queued activities: claim, commit, sign and POST, then record each outcome."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import ConfigurationError, RemoteUnavailable
from fedihub.federation.blocks import blocked_domains, domain_matches
from fedihub.federation.context import FederationContext
from fedihub.federation.foreground import DELIVERIES_BESIDE_PAGES
from fedihub.federation.leases import keep_leased
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import (
    Outcome,
    breaker_open_for,
    classify_exception,
    classify_status,
    parse_retry_after,
    retry_delay,
    should_give_up,
)
from fedihub.federation.signing import load_signing_keys
from fedihub.protocol.hosts import has_userinfo, host_of
from fedihub.protocol.http import DeadlineExceeded, outbound_deadline
from fedihub.protocol.httpauth import HttpSignatureAuth
from fedihub.protocol.media_types import ACTIVITY_JSON
from fedihub.storage.models import Activity, Delivery, DomainHealth

log = logging.getLogger(__name__)

ACTIVITY_CONTENT_TYPE = ACTIVITY_JSON
# A delivery needs only the status: this much of the answer is read (so a short answer leaves the
# connection reusable), the rest is never read, whatever its size.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    domain: str
    outcome: Outcome
    status: int | None
    error: str | None
    retry_after: float | None


@dataclass
class _Payload:
    body: bytes
    auth: httpx.Auth
    activity_id: str
    activity_type: str


_Ended = tuple[Delivery, _Payload, Attempt]


class _Recorder:
    """Records ended attempts in the background, in one transaction per ``batch`` or more.

    A recording costs about as much for one row as for dozens (bench/fanout.py), so outcomes wait
    until ``batch`` of them have ended, or until ``flush``: the runner flushes whenever it has
    nothing queued, so the last outcomes of a fan-out, and those of a trickle, are written at once.
    """

    def __init__(self, finish: Callable[[list[_Ended]], Awaitable[None]], batch: int) -> None:
        self._finish = finish
        self._batch = batch
        self._hurry = False
        self._waiting: list[_Ended] = []
        self._writing: list[_Ended] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, ended: list[_Ended]) -> None:
        self._waiting.extend(ended)
        if len(self._waiting) >= self._batch:
            self._start()

    def flush(self) -> None:
        """Record what is waiting now, however little."""
        if self._waiting:
            self._hurry = True
            self._start()

    def delivery_ids(self) -> list[int]:
        """Rows sent and not recorded yet: their leases must be kept."""
        return [d.id for d, _, _ in self._waiting] + [d.id for d, _, _ in self._writing]

    async def drain(self) -> None:
        """Until everything added has been recorded (or its recording failed)."""
        self.flush()
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._waiting and (self._hurry or len(self._waiting) >= self._batch):
            self._hurry = False
            self._writing, self._waiting = self._waiting, []
            try:
                await self._finish(self._writing)
            except Exception:
                # The rows keep their lease until it runs out, then are sent again: never lost.
                log.exception("recording %d delivery outcomes failed", len(self._writing))
            finally:
                self._writing = []


class DeliveryRunner:
    """Sends due deliveries; several runners (processes) may share one PostgreSQL database."""

    def __init__(self, ctx: FederationContext, *, owner: str, lease: timedelta, batch_size: int = 256) -> None:
        self.ctx = ctx
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size
        # However it is configured, one POST ends well inside the lease of its row.
        self.timeout = min(ctx.delivery_timeout, lease.total_seconds() / 2)
        self._auth_cache: dict[int, httpx.Auth] = {}

    async def run_once(self) -> int:
        """Claim one batch, deliver it, record the outcomes; returns how many were attempted."""
        claimed, payloads = await self._claim(self.batch_size)
        if not claimed:
            return 0
        semaphore = asyncio.Semaphore(self.ctx.delivery_concurrency)

        async def attempt(delivery: Delivery) -> Attempt:
            async with semaphore:
                return await self._send(delivery, payloads[delivery.activity_id])

        # The batch waits for its slowest POST (at most one deadline per wave of the semaphore);
        # the rows still queued keep their lease meanwhile.
        ids = [d.id for d in claimed]
        async with self._leases_kept(lambda: ids):
            attempts = await asyncio.gather(*(attempt(d) for d in claimed))
        await self._finish([(d, payloads[d.activity_id], a) for d, a in zip(claimed, attempts, strict=True)])
        return len(attempts)

    async def run(self, stop: asyncio.Event, poll_interval: float) -> None:
        """Deliver as a steady stream until ``stop``: up to ``delivery_concurrency`` POSTs in flight, a
        free slot takes the next due delivery at once, and outcomes are recorded as POSTs end.

        Unlike ``run_once`` no batch waits for its slowest inbox: one slow server holds its own slots,
        never the deliveries claimed after it. Claiming (a batch ahead) and recording run beside the
        sending, each one transaction for many rows: done in line, each cost most of a fan-out's time
        on SQLite (bench/fanout.py). A claimed row keeps its lease until it is recorded or given
        back, so no other runner takes it; one whose outcome is lost in a crash is sent again, never lost.

        While this process answers people's page requests, only a few new POSTs start (foreground.py).
        """
        capacity = max(1, self.ctx.delivery_concurrency)
        foreground = self.ctx.foreground
        in_flight: dict[asyncio.Task[Attempt], tuple[Delivery, _Payload]] = {}
        # Claimed ahead, so a freed slot never waits for the database.
        queued: collections.deque[tuple[Delivery, _Payload]] = collections.deque()
        # The runner's own writes take turns: on SQLite two of them at once would leave one sleeping
        # in the busy handler (1, 2, 5, 10 ms...) long after the other committed.
        turn = asyncio.Lock()

        async def claim(limit: int) -> list[tuple[Delivery, _Payload]]:
            async with turn:
                claimed, payloads = await self._claim(limit)
            return [(delivery, payloads[delivery.activity_id]) for delivery in claimed]

        async def finish(ended: list[_Ended]) -> None:
            async with turn:
                await self._finish(ended)

        # Two waves of outcomes a recording: on a crash at most these are sent again, besides those in flight.
        recorder = _Recorder(finish, batch=2 * capacity)
        wake = asyncio.Event()  # something the loop must see to: a POST or a claim ended, stop, new work
        ended: list[asyncio.Task[Attempt]] = []
        claiming: asyncio.Task[list[tuple[Delivery, _Payload]]] | None = None
        # Set once a claim found nothing: none is made until new work is announced or a poll interval passes.
        drained = False
        new_work: asyncio.Task[Any] | None = None
        # Set while sends are held back for people's pages: wakes the loop when the pages are answered.
        pages_answered: asyncio.Future[Any] | None = None

        def post_ended(task: asyncio.Task[Attempt]) -> None:
            ended.append(task)
            wake.set()

        def woken(_: object) -> None:
            wake.set()

        def leased() -> list[int]:
            return [d.id for d, _ in in_flight.values()] + [d.id for d, _ in queued] + recorder.delivery_ids()

        stopping = asyncio.ensure_future(stop.wait())
        stopping.add_done_callback(woken)
        async with self._leases_kept(leased):
            try:
                while not stop.is_set():
                    if ended:
                        recorder.add([(*in_flight.pop(task), task.result()) for task in ended])
                        ended.clear()
                        if not queued:  # the end of a fan-out, or a trickle: nothing to wait for
                            recorder.flush()
                    if claiming is not None and claiming.done():
                        try:
                            claimed = claiming.result()
                        except Exception:
                            log.exception("claiming deliveries failed; retrying shortly")
                            claimed = []
                        claiming = None
                        queued.extend(claimed)
                        drained = not claimed
                    if drained and new_work is not None and new_work.done():
                        drained, new_work = False, None
                    if pages_answered is not None and pages_answered.done():
                        pages_answered = None
                    width = foreground.width(capacity, DELIVERIES_BESIDE_PAGES)
                    while queued and len(in_flight) < width:
                        delivery, payload = queued.popleft()
                        task = asyncio.create_task(self._send(delivery, payload))
                        in_flight[task] = (delivery, payload)
                        task.add_done_callback(post_ended)
                    if queued and width < capacity and len(in_flight) < capacity and pages_answered is None:
                        pages_answered = asyncio.ensure_future(foreground.quiet.wait())
                        pages_answered.add_done_callback(woken)
                    if claiming is None and not drained and len(queued) < capacity:
                        # Cleared before claiming: work announced from now on ends the drained state.
                        self.ctx.work_available.clear()
                        # A batch at a time, as run_once claims: a claim costs the event loop about 3 ms
                        # however few rows it takes, so a wave at a time (33 rows) cost ~100 us a delivery.
                        wanted = max(self.batch_size, 2 * capacity) - len(queued)
                        claiming = asyncio.create_task(claim(wanted))
                        claiming.add_done_callback(woken)
                    if drained and new_work is None:
                        new_work = asyncio.ensure_future(self.ctx.work_available.wait())
                        new_work.add_done_callback(woken)
                    if ended or stop.is_set():
                        continue
                    # No await since the checks above: whatever sets ``wake`` from here on is news.
                    wake.clear()
                    try:
                        async with asyncio.timeout(poll_interval):
                            await wake.wait()
                    except TimeoutError:
                        # Deliveries coming due (retries) and rows queued by another process announce nothing.
                        drained = False
                        if new_work is not None:
                            new_work.cancel()
                            new_work = None
                if in_flight:
                    await asyncio.wait(list(in_flight))
                    recorder.add([(*in_flight.pop(task), task.result()) for task in list(in_flight)])
            finally:
                stopping.cancel()
                if new_work is not None:
                    new_work.cancel()
                if pages_answered is not None:
                    pages_answered.cancel()
                if claiming is not None:
                    # Its rows are leased once it commits: wait for them, so they are given back below.
                    with contextlib.suppress(Exception):
                        queued.extend(await asyncio.shield(claiming))
                await recorder.drain()
                if queued:
                    await self._release([delivery.id for delivery, _ in queued])

    async def _release(self, ids: list[int]) -> None:
        """Give back claimed deliveries that were never sent, so the next runner need not wait out their lease."""
        try:
            async with self.ctx.sessions.begin() as session:
                await session.execute(
                    update(Delivery).where(Delivery.id.in_(ids), Delivery.locked_by == self.owner)
                    .values(locked_until=None, locked_by=None),
                    execution_options={"synchronize_session": False},
                )
        except Exception:  # their leases run out instead
            log.exception("releasing %d unsent deliveries failed", len(ids))

    async def _claim(self, limit: int) -> tuple[list[Delivery], dict[int, _Payload]]:
        """Lease up to ``limit`` due deliveries, minus those to paused or blocked servers, and commit."""
        ctx = self.ctx
        now = ctx.clock()
        async with ctx.sessions.begin() as session:
            claimed = list(await claim_due(session, Delivery, now=now, owner=self.owner, lease=self.lease, limit=limit))
            if not claimed:
                return [], {}
            claimed = await self._postpone_open_domains(session, claimed, now)
            claimed = await _drop_blocked(session, claimed)
            payloads = await self._payloads(session, {d.activity_id for d in claimed})
        return claimed, payloads

    def _leases_kept(self, ids: Callable[[], Collection[int]]) -> contextlib.AbstractAsyncContextManager[None]:
        return keep_leased(self.ctx.sessions, self.ctx.clock, Delivery, ids, owner=self.owner, lease=self.lease)

    async def _finish(self, results: list[_Ended]) -> None:
        """Record the attempts, then log and report each."""
        outcomes = await self._record([a for _, _, a in results], {d.id: d for d, _, _ in results})
        for delivery, payload, _ in results:
            _log_outcome(delivery, payload, outcomes[delivery.id])
            self.ctx.telemetry.delivery_finished(delivery.domain, outcomes[delivery.id][0])

    async def _postpone_open_domains(
        self, session: AsyncSession, claimed: list[Delivery], now: datetime
    ) -> list[Delivery]:
        """Deliveries to a domain whose breaker is open wait, without using up an attempt."""
        domains = {d.domain for d in claimed}
        health = {
            h.domain: h
            for h in (await session.scalars(select(DomainHealth).where(DomainHealth.domain.in_(domains)))).all()
        }
        ready = []
        for delivery in claimed:
            state = health.get(delivery.domain)
            if state is not None and state.open_until is not None and state.open_until > now:
                delivery.next_attempt_at = state.open_until
                delivery.locked_until = None
                delivery.locked_by = None
            else:
                ready.append(delivery)
        return ready

    async def _payloads(self, session: AsyncSession, activity_ids: set[int]) -> dict[int, _Payload]:
        activities = list(await session.scalars(select(Activity).where(Activity.id.in_(activity_ids))))
        wanted = {a.actor_id for a in activities} - self._auth_cache.keys()
        for actor_id, (key_id, private_key_pem) in (await load_signing_keys(session, wanted)).items():
            self._auth_cache[actor_id] = HttpSignatureAuth(key_id, private_key_pem, clock=self.ctx.clock)
        payloads = {}
        for activity in activities:
            auth = self._auth_cache.get(activity.actor_id)
            if auth is None:
                # Only local actors publish activities; one without a key here cannot be signed for.
                raise ConfigurationError(f"{activity.uri} has no signing key on this server")
            # Serialised once per activity: every inbox gets the same bytes, only signatures differ.
            payloads[activity.id] = _Payload(json.dumps(activity.data).encode(), auth, activity.uri, activity.type)
        return payloads

    async def _send(self, delivery: Delivery, payload: _Payload) -> Attempt:
        try:
            status, retry_after_header = await self._post(delivery.inbox_url, payload)
        except Exception as exc:  # every failure is classified; none may escape and kill the batch
            outcome = classify_exception(exc)
            return Attempt(delivery.id, delivery.domain, outcome, None, f"{type(exc).__name__}: {exc}"[:500], None)
        retry_after = parse_retry_after(retry_after_header, self.ctx.clock())
        outcome = classify_status(status)
        error = None if outcome is Outcome.DELIVERED else f"HTTP {status}"
        return Attempt(delivery.id, delivery.domain, outcome, status, error, retry_after)

    async def _post(self, inbox_url: str, payload: _Payload) -> tuple[int, str | None]:
        """POST once within the delivery deadline; the status and Retry-After, having read little of the answer.

        The deadline covers connecting, sending, the headers and the bit of the body we read: an
        inbox that answers its headers and then drips a byte a second holds one slot for at most
        this long, never the worker. The shared client's transport enforces it (BoundedTransport),
        in the cancel scope it opens anyway: one of our own around it cost a second one per POST.
        """
        try:
            with outbound_deadline(self.timeout):
                async with self.ctx.http.stream(
                    "POST",
                    inbox_url,
                    content=payload.body,
                    headers={"Content-Type": ACTIVITY_CONTENT_TYPE, "Accept": ACTIVITY_CONTENT_TYPE},
                    auth=payload.auth,
                ) as response:
                    received = 0
                    # Raw bytes: the answer is not decompressed, so a gzip bomb costs nothing either.
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= MAX_ANSWER_BYTES:
                            break  # leaving the block closes the connection instead of reading on
                    return response.status_code, response.headers.get("retry-after")
        except DeadlineExceeded as exc:
            raise RemoteUnavailable(f"{inbox_url} did not answer within {self.timeout:g} s") from exc

    async def _record(self, attempts: list[Attempt], claimed: dict[int, Delivery]) -> dict[int, tuple[str, Attempt]]:
        """Write each attempt's outcome; returns, per delivery, what it became (delivered, retry, dead)."""
        ctx = self.ctx
        now = ctx.clock()
        changes = []
        outcomes: dict[int, tuple[str, Attempt]] = {}
        for attempt in attempts:
            delivery = claimed[attempt.delivery_id]
            count = delivery.attempts + 1
            change: dict[str, Any] = {
                "id": attempt.delivery_id, "attempts": count, "last_status": attempt.status,
                "last_error": attempt.error, "locked_until": None, "locked_by": None,
            }
            if attempt.outcome is Outcome.DELIVERED:
                change.update(state="delivered", delivered_at=now)
            elif attempt.outcome is Outcome.PERMANENT or should_give_up(count, delivery.created_at, now):
                change.update(state="dead")
            else:
                delay = retry_delay(count, rng=ctx.rng, retry_after=attempt.retry_after)
                change.update(next_attempt_at=now + timedelta(seconds=delay))
            changes.append(change)
            outcomes[attempt.delivery_id] = (str(change.get("state", "retry")), attempt)
        async with ctx.sessions.begin() as session:
            # Only rows this runner still leases: if the lease ran out and another worker took a row,
            # that worker records it. (Sending twice is possible then; recording twice is not.)
            await session.execute(
                update(Delivery).where(Delivery.locked_by == self.owner),
                changes,
                execution_options={"synchronize_session": False},
            )
            await self._update_health(session, attempts, now)
        return outcomes

    async def _update_health(self, session: AsyncSession, attempts: list[Attempt], now: datetime) -> None:
        by_domain: dict[str, list[Attempt]] = {}
        for attempt in attempts:
            by_domain.setdefault(attempt.domain, []).append(attempt)
        # Only unreachable servers trip the breaker; a 4xx answer means the server is up.
        answered = {domain for domain, ended in by_domain.items() if any(a.outcome is not Outcome.RETRY for a in ended)}
        if answered:
            # Nearly every recording: servers that answered are healthy, whatever they were before. One
            # UPDATE instead of reading each row and writing it back: a recording of 64 outcomes on 64
            # domains took 1.3 ms of CPU on PostgreSQL instead of 2.8 ms, on one domain 1.1 instead of 1.4.
            healed = await session.execute(
                update(DomainHealth).where(DomainHealth.domain.in_(answered))
                .values(consecutive_failures=0, open_until=None, last_success_at=now),
                execution_options={"synchronize_session": False},
            )
            if healed.rowcount != len(answered):  # type: ignore[attr-defined]
                known = set(
                    (await session.scalars(select(DomainHealth.domain).where(DomainHealth.domain.in_(answered)))).all()
                )
                session.add_all(
                    DomainHealth(domain=domain, consecutive_failures=0, last_success_at=now)
                    for domain in answered - known
                )
        unreachable = by_domain.keys() - answered
        if not unreachable:
            return
        existing = {
            h.domain: h
            for h in (
                await session.scalars(select(DomainHealth).where(DomainHealth.domain.in_(unreachable)))
            ).all()
        }
        for domain in unreachable:
            health = existing.get(domain)
            if health is None:
                health = DomainHealth(domain=domain, consecutive_failures=0)
                session.add(health)
            health.consecutive_failures = (health.consecutive_failures or 0) + 1
            health.last_failure_at = now
            health.last_error = by_domain[domain][-1].error
            pause = breaker_open_for(health.consecutive_failures)
            health.open_until = now + pause if pause else None


async def _drop_blocked(session: AsyncSession, claimed: list[Delivery]) -> list[Delivery]:
    """Deliveries to a blocked server are never sent, whenever they were queued and however their
    inbox URL spells the host; an inbox URL with user-info (``http://x@host/inbox``) is never sent to."""
    blocked = await blocked_domains(session)
    ready = []
    for delivery in claimed:
        refused = has_userinfo(delivery.inbox_url) or any(
            domain_matches(host_of(delivery.inbox_url), domain) for domain in blocked
        )
        if refused:
            delivery.state, delivery.last_error = "dead", "domain blocked"
            delivery.locked_until = delivery.locked_by = None
        else:
            ready.append(delivery)
    return ready


def _log_outcome(delivery: Delivery, payload: _Payload, result: tuple[str, Attempt]) -> None:
    outcome, attempt = result
    fields = {
        "activity_id": payload.activity_id, "activity_type": payload.activity_type, "inbox": delivery.inbox_url,
        "remote_host": delivery.domain, "attempt": delivery.attempts + 1, "outcome": outcome,
        "status": attempt.status,
    }
    if outcome == "delivered":
        log.info("delivery %s delivered", payload.activity_type, extra=fields)
    else:
        log.log(logging.WARNING if outcome == "dead" else logging.INFO, "delivery %s %s: %s",
                payload.activity_type, outcome, attempt.error, extra=fields)
