"""Delivery to unreliable peers: retries and back-off, Retry-After, giving up, the breaker, leases."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.federation.delivery import DeliveryRunner
from fedihub.federation.health import DomainDeliveries, delivery_summary
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import BREAKER_THRESHOLD
from fedihub.storage.models import Activity, Actor, Delivery, DomainHealth, Follow
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.all_backends  # the delivery queue: claims, retries and back-off are rows with per-database SQL

REFUSE = "connection refused"
Answer = int | str | httpx.Response | Callable[[], httpx.Response]


class FakePeer:
    """A remote server whose inbox answers what the test scripts and remembers every POST."""

    def __init__(self, *script: Answer, then: Answer = 202) -> None:
        self.script = list(script)
        self.then = then
        self.received: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content))
        answer = self.script.pop(0) if self.script else self.then
        if answer == REFUSE:
            raise httpx.ConnectError("connection refused", request=request)
        if callable(answer):
            answer = answer()
        return answer if isinstance(answer, httpx.Response) else httpx.Response(int(answer))


async def coalition_followed_from(net: FederationNet, *hosts: str) -> Instance:
    """a.test with a coalition "tenants" that one account on each of ``hosts`` follows."""
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    now = net.clock()
    async with a.ctx.sessions.begin() as session:
        for host in hosts:
            ally = Actor(
                uri=f"http://{host}/users/ally", type="Person", username="ally", domain=host, is_local=False,
                inbox=f"http://{host}/users/ally/inbox", shared_inbox=f"http://{host}/inbox",
                fetched_at=now, created_at=now, updated_at=now,
            )
            session.add(ally)
            await session.flush()
            session.add(
                Follow(
                    uri=f"http://{host}/follows/1", follower_id=ally.id, target_id=tenants.id, state="accepted",
                    created_at=now, updated_at=now,
                )
            )
    return a


async def post(a: Instance, text: str = "Rent strike meeting on Thursday") -> str:
    """Publish a note from tenants; returns the id of its Create activity."""
    note = await committed(a.ctx, service.post_note, "tenants", text)
    return f"{note.uri}/activity"


async def delivery(a: Instance, activity_uri: str, host: str) -> Delivery:
    async with a.ctx.sessions() as session:
        row = await session.scalar(
            select(Delivery).join(Activity, Activity.id == Delivery.activity_id)
            .where(Activity.uri == activity_uri, Delivery.domain == host)
        )
    assert row is not None, f"no delivery of {activity_uri} to {host}"
    return row


async def health(a: Instance, host: str) -> DomainHealth | None:
    async with a.ctx.sessions() as session:
        return await session.get(DomainHealth, host)


async def summary(a: Instance) -> dict[str, DomainDeliveries]:
    async with a.ctx.sessions() as session:
        return {row.domain: row for row in await delivery_summary(session, now=a.ctx.clock())}


def seconds_until(net: FederationNet, when: datetime) -> float:
    return (when - net.clock()).total_seconds()


async def test_a_failing_server_is_retried_later_and_later_until_it_answers(net: FederationNet) -> None:
    peer = FakePeer(503, 502, 500, 503)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)

    waits = []
    for attempt in range(1, 5):
        await net.settle()
        row = await delivery(a, create, "masto.test")
        assert (row.state, row.attempts, len(peer.received)) == ("pending", attempt, attempt)
        assert row.last_status in (500, 502, 503)
        waits.append(seconds_until(net, row.next_attempt_at))
        net.clock.advance(seconds=waits[-1] - 1)
        await net.settle()
        assert len(peer.received) == attempt, "retried before its time"
        net.clock.advance(seconds=1)
    assert all(earlier < later for earlier, later in itertools.pairwise(waits)), waits
    assert waits[0] >= 14

    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts, row.last_status) == ("delivered", 5, 202)
    assert [body["id"] for body in peer.received] == [create] * 5  # the same activity every time


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        (lambda now: "3600", 3600),
        (lambda now: format_datetime(now + timedelta(hours=2), usegmt=True), 7200),
    ],
    ids=["delta-seconds", "http-date"],
)
async def test_a_rate_limited_delivery_waits_as_long_as_the_peer_asks(
    net: FederationNet, retry_after: Callable[[datetime], str], wait: int
) -> None:
    def answer() -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": retry_after(net.clock())})

    peer = FakePeer(answer)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)

    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.last_status) == ("pending", 429)
    assert wait - 2 <= seconds_until(net, row.next_attempt_at) <= wait + 1

    net.clock.advance(seconds=wait - 3)
    await net.settle()
    assert len(peer.received) == 1
    net.clock.advance(seconds=4)
    await net.settle()
    assert len(peer.received) == 2
    assert (await delivery(a, create, "masto.test")).state == "delivered"


@pytest.mark.parametrize("status", [404, 410, 400])
async def test_a_refused_delivery_is_dead_at_once(net: FederationNet, status: int) -> None:
    peer = FakePeer(status)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)

    await net.settle()
    net.clock.advance(days=4)
    await net.settle()

    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts, row.last_status) == ("dead", 1, status)
    assert len(peer.received) == 1
    # An answer, even a refusal, shows the server is up: its breaker stays closed.
    state = await health(a, "masto.test")
    assert state is not None and state.consecutive_failures == 0 and state.open_until is None


async def test_one_recording_keeps_each_servers_health_apart(net: FederationNet) -> None:
    # One post's deliveries end in one recording: a server that answered, one that cannot be
    # reached, one already known to have failed before, each keeps its own count.
    net.add_handler("up.test", FakePeer())
    net.add_handler("down.test", FakePeer(then=REFUSE))
    net.add_handler("back.test", FakePeer())
    a = await coalition_followed_from(net, "up.test", "down.test", "back.test")
    async with a.ctx.sessions.begin() as session:
        session.add(DomainHealth(domain="back.test", consecutive_failures=2, last_error="HTTP 503"))
    posted_at = a.ctx.clock()

    await post(a)
    await net.settle()

    up, down, back = [await health(a, host) for host in ("up.test", "down.test", "back.test")]
    assert up is not None and (up.consecutive_failures, up.open_until) == (0, None)
    assert up.last_success_at is not None and up.last_success_at >= posted_at
    assert down is not None and down.consecutive_failures == 1 and down.last_success_at is None
    assert down.last_error is not None and "connection refused" in down.last_error
    assert back is not None and (back.consecutive_failures, back.open_until) == (0, None)
    assert back.last_success_at is not None and back.last_success_at >= posted_at


async def test_a_server_that_cannot_be_reached_is_retried(net: FederationNet) -> None:
    peer = FakePeer(REFUSE)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)

    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, None)
    assert "ConnectError" in (row.last_error or "")

    net.clock.advance(seconds=seconds_until(net, row.next_attempt_at) + 1)
    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts, row.last_error) == ("delivered", 2, None)


async def test_a_delivery_is_given_up_after_about_three_days(net: FederationNet) -> None:
    peer = FakePeer(then=503)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)

    await net.settle()
    net.clock.advance(days=2, hours=23)
    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts) == ("pending", 2)

    net.clock.advance(hours=1)
    await net.settle()
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts) == ("dead", 3)
    net.clock.advance(days=7)
    await net.settle()
    assert len(peer.received) == 3
    assert (await summary(a))["masto.test"].dead == 1


async def fail_until_the_breaker_opens(net: FederationNet, a: Instance, create: str, host: str) -> None:
    """Let the delivery of ``create`` to ``host`` fail on its own until the breaker trips."""
    while (state := await health(a, host)) is None or state.open_until is None:
        row = await delivery(a, create, host)
        assert row.attempts < BREAKER_THRESHOLD, "the breaker did not open"
        net.clock.advance(seconds=max(seconds_until(net, row.next_attempt_at), 0) + 1)
        await net.settle()


async def test_the_breaker_pauses_a_failing_domain_without_using_up_attempts(net: FederationNet) -> None:
    peer = FakePeer(then=503)
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    first = await post(a, "first")
    await fail_until_the_breaker_opens(net, a, first, "masto.test")
    state = await health(a, "masto.test")
    assert state is not None and state.open_until is not None
    assert state.consecutive_failures == BREAKER_THRESHOLD
    assert (await summary(a))["masto.test"].paused_until == state.open_until
    requests_so_far = len(peer.received)

    second = await post(a, "second")
    await net.settle()
    row = await delivery(a, second, "masto.test")
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.next_attempt_at == state.open_until
    assert len(peer.received) == requests_so_far, "a paused domain was contacted"

    peer.then = 202
    net.clock.advance(seconds=seconds_until(net, state.open_until) + 1)
    await net.settle()
    row = await delivery(a, second, "masto.test")
    assert (row.state, row.attempts) == ("delivered", 1)
    state = await health(a, "masto.test")
    assert state is not None and state.consecutive_failures == 0 and state.open_until is None
    assert (await summary(a))["masto.test"].paused_until is None

    third = await post(a, "third")
    await net.settle()
    assert (await delivery(a, third, "masto.test")).state == "delivered"


async def test_a_hanging_server_does_not_hold_up_a_healthy_one(net: FederationNet) -> None:
    healthy_received = asyncio.Event()
    waited_in_vain: list[bool] = []

    def healthy(request: httpx.Request) -> httpx.Response:
        healthy_received.set()
        return httpx.Response(202)

    async def hanging(request: httpx.Request) -> httpx.Response:
        # Hangs until the healthy server has its copy: a runner that delivered one inbox
        # after the other would never get there, and the test would notice.
        try:
            await asyncio.wait_for(healthy_received.wait(), timeout=5)
        except TimeoutError:
            waited_in_vain.append(True)
        raise httpx.ReadTimeout("no answer", request=request)

    net.add_handler("healthy.test", healthy)
    net.add_handler("hanging.test", hanging)
    a = await coalition_followed_from(net, "hanging.test", "healthy.test")
    first = await post(a, "first")
    await a.runtime.worker.run_once()
    assert waited_in_vain == []
    assert (await delivery(a, first, "healthy.test")).state == "delivered"
    assert (await delivery(a, first, "hanging.test")).state == "pending"

    await fail_until_the_breaker_opens(net, a, first, "hanging.test")
    healthy_received.clear()
    second = await post(a, "second")
    assert await a.runtime.worker.run_once() == 1  # only the healthy delivery was attempted
    assert (await delivery(a, second, "healthy.test")).state == "delivered"
    row = await delivery(a, second, "hanging.test")
    assert (row.state, row.attempts) == ("pending", 0)


async def test_the_queue_summary_shows_each_domain_as_an_operator_needs_it(net: FederationNet) -> None:
    net.add_handler("healthy.test", FakePeer(then=202))
    net.add_handler("flaky.test", FakePeer(then=503))
    net.add_handler("gone.test", FakePeer(then=410))
    a = await coalition_followed_from(net, "healthy.test", "flaky.test", "gone.test")
    await post(a)

    before = await summary(a)
    assert {d: (r.pending, r.failing, r.dead, r.delivered) for d, r in before.items()} == {
        "flaky.test": (1, 0, 0, 0), "gone.test": (1, 0, 0, 0), "healthy.test": (1, 0, 0, 0),
    }
    await net.settle()
    after = await summary(a)
    assert {d: (r.pending, r.failing, r.dead, r.delivered) for d, r in after.items()} == {
        "flaky.test": (1, 1, 0, 0), "gone.test": (0, 0, 1, 0), "healthy.test": (0, 0, 0, 1),
    }
    assert after["flaky.test"].last_error == "HTTP 503"
    assert after["flaky.test"].paused_until is None  # one failure is not an outage


async def test_a_delivery_claimed_by_a_worker_that_died_is_sent_once_the_lease_expires(net: FederationNet) -> None:
    peer = FakePeer()
    net.add_handler("masto.test", peer)
    a = await coalition_followed_from(net, "masto.test")
    create = await post(a)
    lease = timedelta(minutes=5)
    async with a.ctx.sessions.begin() as session:
        claimed = await claim_due(session, Delivery, now=net.clock(), owner="crashed-worker", lease=lease, limit=10)
    assert len(claimed) == 1
    # The crashed worker never records an outcome; nobody else may touch the row meanwhile.

    await net.settle()
    net.clock.advance(minutes=4)
    await net.settle()
    assert peer.received == []

    net.clock.advance(minutes=1, seconds=1)
    await net.settle()
    assert [body["id"] for body in peer.received] == [create]
    row = await delivery(a, create, "masto.test")
    assert (row.state, row.attempts, row.locked_by) == ("delivered", 1, None)


async def test_two_workers_claiming_at_the_same_moment_get_different_rows(net: FederationNet, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite admits one writer at a time, so two claims cannot overlap there")
    hosts = [f"peer{i}.test" for i in range(6)]
    for host in hosts:
        net.add_handler(host, FakePeer())
    a = await coalition_followed_from(net, *hosts)
    await post(a)
    lease = timedelta(minutes=5)

    async with a.ctx.sessions.begin() as first_worker:
        mine = await claim_due(first_worker, Delivery, now=net.clock(), owner="one", lease=lease, limit=3)
        # The first claim is not committed yet: the second must neither wait for it nor take its rows.
        async with a.ctx.sessions.begin() as second_worker:
            theirs = await asyncio.wait_for(
                claim_due(second_worker, Delivery, now=net.clock(), owner="two", lease=lease, limit=10), timeout=5
            )

    assert len(mine) == 3 and len(theirs) == 3
    assert {d.id for d in mine}.isdisjoint(d.id for d in theirs)


async def _until(condition: Callable[[], object], what: str) -> None:
    """Let the background runner work until ``condition`` holds (a guard, not a timing: 10 s)."""
    try:
        async with asyncio.timeout(10):
            while not await condition():  # type: ignore[misc]
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


async def test_a_slow_inbox_holds_its_own_slot_not_the_deliveries_posted_after_it(net: FederationNet) -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(202)

    net.add_handler("slow.test", slow)
    net.add_handler("healthy.test", FakePeer())
    a = await coalition_followed_from(net, "slow.test", "healthy.test")
    stop = asyncio.Event()
    runner = asyncio.create_task(a.runtime.worker.deliveries.run(stop, poll_interval=0.05))
    try:
        first = await post(a, "first")

        async def delivered(activity: str, host: str) -> bool:
            return (await delivery(a, activity, host)).state == "delivered"

        await _until(lambda: delivered(first, "healthy.test"), "the first post reaches the healthy server")
        # A batch runner would wait here for slow.test before claiming anything else.
        second = await post(a, "second")
        await _until(lambda: delivered(second, "healthy.test"), "the second post reaches the healthy server")
        assert (await delivery(a, first, "slow.test")).state == "pending"

        release.set()
        await _until(lambda: delivered(first, "slow.test"), "the slow server gets the first post")
        await _until(lambda: delivered(second, "slow.test"), "the slow server gets the second post")
    finally:
        release.set()
        stop.set()
        await runner


async def test_an_idle_runner_is_woken_by_the_post_once_it_is_committed(net: FederationNet) -> None:
    # The runner would otherwise sleep its whole poll interval: woken before the commit, its claim
    # (on PostgreSQL, in another transaction) found nothing and it went back to waiting.
    arrived = asyncio.Event()

    async def inbox(request: httpx.Request) -> httpx.Response:
        arrived.set()
        return httpx.Response(202)

    net.add_handler("healthy.test", inbox)
    a = await coalition_followed_from(net, "healthy.test")
    stop = asyncio.Event()
    runner = asyncio.create_task(a.runtime.worker.deliveries.run(stop, poll_interval=600))
    try:
        for _ in range(20):  # the runner's first claim finds nothing; then it waits for work
            await asyncio.sleep(0)
        await post(a)
        # A guard, not a timing: without the wake-up it would be the 600 s poll interval.
        await asyncio.wait_for(arrived.wait(), timeout=10)
    finally:
        stop.set()
        await runner


async def test_a_stopped_runner_gives_back_the_deliveries_it_claimed_and_never_sent(net: FederationNet) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()
    received: list[str] = []

    async def gated(request: httpx.Request) -> httpx.Response:
        received.append(request.url.host)
        arrived.set()
        await release.wait()
        return httpx.Response(202)

    hosts = ["one.test", "two.test", "three.test"]
    for host in hosts:
        net.add_handler(host, gated)
    a = await coalition_followed_from(net, *hosts)
    a.ctx.delivery_concurrency = 1  # one POST in flight; the other two wait claimed behind it
    stop = asyncio.Event()
    runner = asyncio.create_task(a.runtime.worker.deliveries.run(stop, poll_interval=600))
    try:
        await post(a)
        await asyncio.wait_for(arrived.wait(), timeout=10)
        stop.set()
    finally:
        release.set()
        stop.set()
        await runner
    assert len(received) == 1

    # Another worker sends them at once, without waiting out the stopped runner's lease.
    other = DeliveryRunner(a.ctx, owner="next-worker", lease=timedelta(minutes=5))
    assert await other.run_once() == 2
    assert sorted(received) == sorted(hosts)


async def test_a_streaming_runner_retries_a_delivery_once_it_comes_due(net: FederationNet) -> None:
    # Nothing announces a retry coming due: the runner finds it by polling.
    peer = FakePeer(503)
    net.add_handler("flaky.test", peer)
    a = await coalition_followed_from(net, "flaky.test")
    stop = asyncio.Event()
    runner = asyncio.create_task(a.runtime.worker.deliveries.run(stop, poll_interval=0.05))
    try:
        create = await post(a)

        async def failed_once() -> bool:
            return (await delivery(a, create, "flaky.test")).attempts == 1

        await _until(failed_once, "the first attempt is recorded as failed")
        row = await delivery(a, create, "flaky.test")
        assert row.state == "pending"
        net.clock.advance(seconds=seconds_until(net, row.next_attempt_at) + 1)

        async def delivered() -> bool:
            return (await delivery(a, create, "flaky.test")).state == "delivered"

        await _until(delivered, "the retry is sent once it is due")
    finally:
        stop.set()
        await runner
    assert len(peer.received) == 2
