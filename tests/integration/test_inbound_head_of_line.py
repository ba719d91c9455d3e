"""A slow origin holds up its own inbox item only: other activities are processed meanwhile.

The attack: bob (followed by tenants) boosts a post whose origin answers the fetch as slowly as it
likes. The origin here waits on an event the test sets, so what happens "meanwhile" is decided by
the test, not by timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.storage.models import Actor, Follow, InboxItem, Reaction
from tests.integration.helpers import find_object, follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance


class SlowOrigin:
    """A fake server whose post is served only once ``release`` is set."""

    def __init__(self, net: FederationNet, fixtures_dir: Path) -> None:
        self.peer = add_fake_peer(net, "slow.test", fixtures_dir, usernames=("carol",))
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        event = self.peer.build_create(self.peer.accounts["carol"], object_type="Event")["object"]
        event["name"] = "Slow assembly"
        self.peer.serve(event)
        self.event_id: str = event["id"]
        net.add_handler("slow.test", self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == self.event_id:
            self.asked.set()
            await self.release.wait()
        return await self.peer.handle(request)


async def item_states(instance: Instance) -> dict[str, str]:
    async with instance.ctx.sessions() as session:
        return {item.activity_type: item.state for item in await session.scalars(select(InboxItem))}


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Step the event loop until ``check`` holds; the slow fetch is held by an event, so only a
    worker that blocks on it can make this fail (after 5 s, well before any fetch deadline)."""
    try:
        async with asyncio.timeout(5):
            while not await check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen while the slow fetch was hanging") from None


async def test_a_boost_of_a_post_from_a_slow_origin_does_not_hold_up_an_unrelated_follow(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    slow = SlowOrigin(net, fixtures_dir)
    carol = slow.peer.accounts["carol"]

    assert (await peer.send(a, peer.build_announce(bob, slow.event_id, carol.id))).status_code == 202
    assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202
    worker = asyncio.create_task(a.runtime.worker.run_once())
    await asyncio.wait_for(slow.asked.wait(), 5)

    async def follow_done() -> bool:
        return (await item_states(a)).get("Follow") == "done"

    await until(follow_done, "processing the Follow")
    assert (await item_states(a))["Announce"] == "pending"  # its fetch is still hanging
    async with a.ctx.sessions() as session:
        follow = await session.scalar(select(Follow).join(Actor, Actor.id == Follow.follower_id)
                                      .where(Actor.uri == alice.id))
    assert follow is not None and follow.state == "accepted"

    slow.release.set()
    await asyncio.wait_for(worker, 10)
    states = await item_states(a)
    assert (states["Follow"], states["Announce"]) == ("done", "done")
    stored = await find_object(a, slow.event_id)
    assert stored is not None and stored.name == "Slow assembly"


async def test_a_fetch_past_the_processing_deadline_is_retried_later_instead_of_holding_the_queue(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test", inbox_fetch_timeout=0.5)
    peer = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "bob"))
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    bob = peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    slow = SlowOrigin(net, fixtures_dir)

    assert (await peer.send(a, peer.build_announce(bob, slow.event_id, slow.peer.accounts["carol"].id))).status_code \
        == 202
    # The origin never answers in time: the item gives up its slot at the deadline, to be tried again later.
    assert await a.runtime.worker.inbox.run_once() == 1
    async with a.ctx.sessions() as session:
        [item] = list(await session.scalars(select(InboxItem).where(InboxItem.activity_type == "Announce")))
    assert (item.state, item.attempts, item.locked_by) == ("pending", 1, None)
    assert "did not answer in time" in (item.last_error or "")
    assert item.next_attempt_at > a.ctx.clock()
    assert await a.runtime.worker.inbox.run_once() == 0  # backing off, not spinning

    slow.release.set()  # the origin recovers; the retry succeeds and nothing was lost
    net.clock.advance(minutes=1)
    await net.settle()
    assert await find_object(a, slow.event_id) is not None
    async with a.ctx.sessions() as session:
        assert (await session.get(InboxItem, item.id)).state == "done"  # type: ignore[union-attr]


async def test_one_actors_activities_keep_their_order_when_processed_side_by_side(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    # bob boosts a post and takes the boost back at once. The boost waits for the post's slow
    # origin; had the Undo been processed meanwhile it would have found nothing to undo, and the
    # boost, applied last, would stay in the timeline although bob took it back.
    bob = peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    slow = SlowOrigin(net, fixtures_dir)
    announce = peer.build_announce(bob, slow.event_id, slow.peer.accounts["carol"].id)
    undo = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{announce['id']}/undo", "type": "Undo",
            "actor": bob.id, "to": announce["to"], "object": announce}
    assert (await peer.send(a, announce)).status_code == 202
    assert (await peer.send(a, undo)).status_code == 202
    worker = asyncio.create_task(a.runtime.worker.run_once())
    await asyncio.wait_for(slow.asked.wait(), 5)
    for _ in range(50):  # give a wrongly parallel Undo every chance to run first
        await asyncio.sleep(0)
    assert (await item_states(a))["Undo"] == "pending"

    slow.release.set()
    await asyncio.wait_for(worker, 10)
    states = await item_states(a)
    assert (states["Announce"], states["Undo"]) == ("done", "done")
    async with a.ctx.sessions() as session:
        boosts = list(await session.scalars(select(Reaction).where(Reaction.type == "Announce")))
    assert boosts == []
