"""An inbound handler runs in one transaction with the rows it causes: a failure halfway leaves nothing
behind, and the retry sends exactly one answer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fedihub.federation import inbound_follows
from fedihub.storage.models import Actor, Delivery, Follow, InboxItem
from tests.integration.helpers import count_rows
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

# Leases, upserts and transactions behave differently on each database: both are tested.
pytestmark = pytest.mark.all_backends


async def test_a_handler_failing_after_its_accept_leaves_no_delivery_and_the_retry_answers_once(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_accept = inbound_follows.accept_follow
    failures: list[str] = []

    async def accept_then_crash(*args: Any, **kwargs: Any) -> None:
        await real_accept(*args, **kwargs)  # the Accept is queued for delivery …
        if not failures:
            failures.append("crashed")
            raise RuntimeError("the database went away")  # … and then the handler fails

    monkeypatch.setattr(inbound_follows, "accept_follow", accept_then_crash)
    alice = peer.accounts["alice"]
    assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202

    await net.settle()
    assert failures == ["crashed"]
    assert await count_rows(a, Delivery) == 0
    assert await count_rows(a, Follow) == 0
    async with a.ctx.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_type == "Follow"))
    assert item is not None and item.state == "pending" and "database went away" in (item.last_error or "")

    net.clock.advance(minutes=1)  # the retry is due
    await net.settle()

    assert len(peer.received("Accept")) == 1
    assert await count_rows(a, Delivery) == 1
    assert await count_rows(a, Follow, Follow.state == "accepted") == 1
