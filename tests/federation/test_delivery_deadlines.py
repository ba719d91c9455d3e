"""A follower inbox that answers slowly or without end costs one delivery slot for one deadline, nothing more.

The follower's inbox is a real loopback server reached through the real aiohttp transport (an
in-process peer could not drip: httpx's ASGI transport buffers whole answers); everything else is
the in-process test network.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from httpx_aiohttp import AiohttpTransport
from sqlalchemy import select

from fedihub.app import open_runtime
from fedihub.coalitions import service
from fedihub.protocol.http import DeadlineExceeded
from fedihub.settings import Settings
from fedihub.storage.models import Actor, Delivery, Follow, InboxItem
from tests.support.edges import committed
from tests.support.fake_peer import add_fake_peer
from tests.support.hostile_http import HostileServer, hostile_server, trickle
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.all_backends  # the worker's lanes and leases are SQL that differs per database


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0) -> None:
    """Wait for a real-time condition (a deadline on a real socket), failing after ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
async def real_socket(net: FederationNet) -> AsyncIterator[Callable[[HostileServer], None]]:
    """Route a hostile server's host:port through the real aiohttp transport."""
    transport = AiohttpTransport()

    def route(server: HostileServer) -> None:
        net.hosts[server.netloc] = transport

    yield route
    await transport.aclose()


async def follower_at(instance: Instance, coalition_id: int, server: HostileServer) -> None:
    now = instance.ctx.clock()
    async with instance.ctx.sessions.begin() as session:
        follower = Actor(
            uri=f"{server.origin}/users/ann", type="Person", username="ann", domain=server.netloc, is_local=False,
            inbox=f"{server.origin}/users/ann/inbox", created_at=now, updated_at=now, fetched_at=now,
        )
        session.add(follower)
        await session.flush()
        session.add(Follow(uri=f"{server.origin}/follows/1", follower_id=follower.id, target_id=coalition_id,
                           state="accepted", created_at=now, updated_at=now))


async def deliveries_to(instance: Instance, server: HostileServer) -> list[Delivery]:
    async with instance.ctx.sessions() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.domain == server.netloc)))


async def test_an_inbox_that_drips_its_answer_fails_at_the_deadline_while_the_worker_goes_on(
    net: FederationNet, real_socket: Callable[[HostileServer], None], fixtures_dir
) -> None:
    a = await net.add_instance("a.test", delivery_timeout=2.0)
    peer = add_fake_peer(net, "masto.test", fixtures_dir)
    alice = peer.accounts["alice"]
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    async with hostile_server(lambda: trickle(1.0), status=202) as inbox:
        real_socket(inbox)
        await follower_at(a, tenants.id, inbox)
        await committed(a.ctx, service.post_note, "tenants", "Assembly on Sunday")
        stop = asyncio.Event()
        worker = asyncio.create_task(a.runtime.worker.run(stop))
        try:
            await asyncio.wait_for(inbox.answering.wait(), 10)
            dripping_since = time.monotonic()

            # While the inbox drips, an unrelated activity arrives and is processed.
            assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202

            async def follow_processed() -> bool:
                async with a.ctx.sessions() as session:
                    states = list(await session.scalars(select(InboxItem.state)))
                return states == ["done"]

            await eventually(follow_processed, "the Follow to be processed")
            # The delivery is still dripping: the Follow did not wait for it (a wall-clock bound here
            # would fail on a loaded machine without saying anything more).
            [pending] = await deliveries_to(a, inbox)
            assert (pending.attempts, pending.state) == (0, "pending"), "the Follow waited for the delivery"

            async def attempt_recorded() -> bool:
                return (await deliveries_to(a, inbox))[0].attempts == 1

            await eventually(attempt_recorded, "the dripping delivery to be recorded")
            took = time.monotonic() - dripping_since
        finally:
            stop.set()
            await asyncio.wait_for(worker, 10)

    [delivery] = await deliveries_to(a, inbox)
    # A classified, retryable failure at the deadline, with a later attempt scheduled; not delivered, not lost.
    assert delivery.state == "pending" and delivery.last_status is None and delivery.locked_by is None
    assert "did not answer within 2 s" in (delivery.last_error or "")
    assert delivery.next_attempt_at > a.ctx.clock()
    assert took < 10.0  # cut at the deadline: the answer itself would drip forever
    # The Follow was answered once the slot was free again.
    await net.settle()
    assert len(peer.received("Accept")) == 1


async def test_a_huge_answer_to_a_delivery_is_not_read(
    net: FederationNet, real_socket: Callable[[HostileServer], None]
) -> None:
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")

    async def four_hundred_megabytes() -> AsyncIterator[bytes]:
        chunk = b"x" * (1024 * 1024)
        for _ in range(400):
            yield chunk

    async with hostile_server(four_hundred_megabytes, status=202) as inbox:
        real_socket(inbox)
        await follower_at(a, tenants.id, inbox)
        await committed(a.ctx, service.post_note, "tenants", "Assembly on Sunday")
        tracemalloc.start()
        try:
            assert await a.runtime.worker.deliveries.run_once() == 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await asyncio.wait_for(inbox.hung_up.wait(), 10)

    [delivery] = await deliveries_to(a, inbox)
    assert (delivery.state, delivery.last_status) == ("delivered", 202)
    # We hung up after 64 KB: the peer got no further than what the kernel's socket buffers took.
    assert inbox.sent < 40_000_000
    assert peak < 20_000_000


async def test_the_servers_own_client_carries_the_configured_deadline(database_url: str) -> None:
    # The client a real server builds for itself (not the test network's): its settings reach it.
    settings = Settings(base_url="http://a.test", database_url=database_url, secret_key="test-secret",
                        allow_private_addresses=True, http_deadline=1.0)
    async with open_runtime(settings, migrate=True) as runtime, hostile_server(lambda: trickle(0.2)) as peer:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await runtime.ctx.http.get(f"{peer.origin}/users/slow")
        assert time.monotonic() - started < 2.5
