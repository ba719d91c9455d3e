"""People first: while a page is being answered, the worker in the same process starts only a few sends or
items, and goes back to its full width the moment the pages are done (federation/foreground.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedihub.federation.foreground import DELIVERIES_BESIDE_PAGES, INBOX_ITEMS_BESIDE_PAGES
from fedihub.federation.inbox_runner import InboxRunner
from fedihub.federation.processing import Outcome
from fedihub.storage.models import InboxItem
from tests.federation.test_delivery_reliability import coalition_followed_from, post
from tests.integration.organizers import Browser, browsers
from tests.support.fake_peer import add_fake_peer
from tests.support.network import FederationNet

pytestmark = pytest.mark.all_backends  # claims and leases are per-database SQL

__all__ = ["browsers"]  # a fixture used by name below

PEERS = [f"peer{n}.test" for n in range(6)]


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Let the background runner work until ``condition`` holds (a guard, not a timing: 10 s)."""
    try:
        async with asyncio.timeout(10):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


class HeldInboxes:
    """Inboxes that hold every POST until the test lets it go, noting how many were open at each arrival."""

    def __init__(self) -> None:
        self.open = 0
        self.arrived = 0
        self.widest_while_serving = 0
        self.serving: Callable[[], bool] = lambda: False
        self.release = asyncio.Semaphore(0)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.open += 1
        self.arrived += 1
        if self.serving():
            self.widest_while_serving = max(self.widest_while_serving, self.open)
        try:
            await self.release.acquire()
        finally:
            self.open -= 1
        return httpx.Response(202)


async def test_while_a_page_is_answered_few_deliveries_start_and_the_rest_follow_when_it_is_done(
    net: FederationNet,
) -> None:
    inboxes = HeldInboxes()
    for host in PEERS:
        net.add_handler(host, inboxes)
    a = await coalition_followed_from(net, *PEERS)
    foreground = a.ctx.foreground
    inboxes.serving = lambda: foreground.busy
    stop = asyncio.Event()
    runner = asyncio.create_task(a.runtime.worker.deliveries.run(stop, poll_interval=0.05))
    try:
        with foreground.serving():  # a visitor's page is being rendered
            await post(a)
            await _until(lambda: inboxes.arrived == DELIVERIES_BESIDE_PAGES, "the first sends start")
            inboxes.release.release()  # one inbox answers: its slot goes to the next delivery, no more
            await _until(lambda: inboxes.arrived == DELIVERIES_BESIDE_PAGES + 1, "the next send starts")
            assert inboxes.widest_while_serving == DELIVERIES_BESIDE_PAGES

        # The page is answered: every remaining delivery starts, without waiting for an inbox to answer.
        await _until(lambda: inboxes.arrived == len(PEERS), "the rest start once the page is done")
        assert inboxes.open == len(PEERS) - 1
    finally:
        for _ in PEERS:
            inboxes.release.release()
        stop.set()
        await runner


class HeldProcessor:
    """Stands for the inbound processor: holds each item until the test lets it go."""

    def __init__(self) -> None:
        self.open = 0
        self.started = 0
        self.widest = 0
        self.release = asyncio.Semaphore(0)

    async def process(self, ctx: Any, item: InboxItem, *, owner: str) -> Outcome:
        self.open += 1
        self.started += 1
        self.widest = max(self.widest, self.open)
        try:
            await self.release.acquire()
        finally:
            self.open -= 1
        return Outcome.HANDLED


async def test_while_a_page_is_answered_inbound_items_are_processed_one_at_a_time(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    now = net.clock()
    async with a.ctx.sessions.begin() as session:
        session.add_all(InboxItem(
            activity_uri=f"https://peer{n}.test/activities/1", activity_type="Like",
            actor_uri=f"https://peer{n}.test/users/ann", payload={"type": "Like"}, next_attempt_at=now,
            received_at=now,
        ) for n in range(6))
    processor = HeldProcessor()
    runner = InboxRunner(a.ctx, processor, owner="test", lease=timedelta(minutes=5), concurrency=4)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop, poll_interval=0.05))
    try:
        with a.ctx.foreground.serving():
            await _until(lambda: processor.started == INBOX_ITEMS_BESIDE_PAGES, "the first item starts")
            processor.release.release()
            await _until(lambda: processor.started == INBOX_ITEMS_BESIDE_PAGES + 1, "the next item starts")
            assert processor.widest == INBOX_ITEMS_BESIDE_PAGES

        await _until(lambda: processor.open == 4, "the full width once the page is done")
    finally:
        for _ in range(6):
            processor.release.release()
        stop.set()
        await task


def _noting_foreground(net: FederationNet, host: str, seen: list[bool], busy: Callable[[], bool],
                       handle: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> None:
    async def noting(request: httpx.Request) -> httpx.Response:
        seen.append(busy())
        return await handle(request)

    net.add_handler(host, noting)


async def test_a_visitors_form_is_foreground_work_and_a_peers_inbox_post_is_not(
    net: FederationNet, fixtures_dir: Path, browsers,  # type: ignore[no-untyped-def]
) -> None:
    a = await coalition_followed_from(net)
    peer = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice",))
    seen: list[bool] = []
    _noting_foreground(net, "masto.test", seen, lambda: a.ctx.foreground.busy, peer.handle)

    # A visitor asks to follow from their own server: the WebFinger lookup happens inside their request.
    visitor: Browser = await browsers(a)
    await visitor.submit("/g/tenants", "/remote-follow", {"coalition": "tenants", "account": "alice@masto.test"})
    assert seen == [True]
    assert not a.ctx.foreground.busy  # and it ends with the answer

    # A peer delivers: our server fetches its key meanwhile, as server-to-server work.
    seen.clear()
    alice = peer.accounts["alice"]
    response = await peer.send(a, peer.build_follow(alice, f"{a.base_url}/g/tenants"))
    assert response.status_code == 202
    assert seen and not any(seen)
