"""A delivery whose lease ran out belongs to whoever claimed it next: the first worker cannot overwrite it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.federation.delivery import DeliveryRunner
from fedihub.storage.models import Actor, Delivery, Follow
from tests.support.edges import committed
from tests.support.network import FederationNet

pytestmark = pytest.mark.all_backends  # leases: claiming, expiry and hand-over are SQL that differs per database


async def _remote_follower(instance, coalition_id: int, host: str) -> None:  # type: ignore[no-untyped-def]
    now = instance.ctx.clock()
    async with instance.ctx.sessions.begin() as session:
        follower = Actor(
            uri=f"http://{host}/users/ann", type="Person", username="ann", domain=host, is_local=False,
            inbox=f"http://{host}/users/ann/inbox", shared_inbox=f"http://{host}/inbox",
            created_at=now, updated_at=now, fetched_at=now,
        )
        session.add(follower)
        await session.flush()
        session.add(Follow(uri=f"http://{host}/follows/1", follower_id=follower.id, target_id=coalition_id,
                           state="accepted", created_at=now, updated_at=now))


async def test_a_slow_worker_does_not_undo_what_the_next_owner_recorded(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await _remote_follower(a, tenants.id, "peer.test")
    slow = DeliveryRunner(a.ctx, owner="slow", lease=timedelta(minutes=1))
    quick = DeliveryRunner(a.ctx, owner="quick", lease=timedelta(minutes=1))
    posts: list[str] = []

    async def peer(request: httpx.Request) -> httpx.Response:
        posts.append("quick" if posts else "slow")
        if len(posts) == 1:
            # The slow worker's POST hangs past its lease; meanwhile another worker takes the row
            # over and delivers it. Then the slow POST comes back with a permanent failure.
            net.clock.advance(minutes=2)
            assert await quick.run_once() == 1
            return httpx.Response(410)
        return httpx.Response(202)

    net.add_handler("peer.test", peer)
    await committed(a.ctx, service.post_note, "tenants", "Assembly on Sunday")
    assert await slow.run_once() == 1

    async with a.ctx.sessions() as session:
        delivery = await session.scalar(select(Delivery))
    assert posts == ["slow", "quick"]
    assert delivery is not None
    assert delivery.state == "delivered", "the late failure of the slow worker overwrote the delivery"
    assert delivery.last_status == 202 and delivery.attempts == 1 and delivery.locked_by is None
