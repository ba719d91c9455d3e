"""Rows a worker is still working on stay its own past their first lease; a stopped worker's come free."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fedihub.coalitions import service
from fedihub.federation.leases import keep_leased
from fedihub.federation.queue import claim_due
from fedihub.storage.models import Delivery
from tests.federation.test_delivery_leases import _remote_follower
from tests.support.edges import committed
from tests.support.network import FederationNet

pytestmark = pytest.mark.all_backends  # leases are SQL that differs per database

LEASE = timedelta(seconds=1)


async def test_a_busy_worker_keeps_its_rows_and_a_stopped_one_lets_them_go(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await _remote_follower(a, tenants.id, "peer.test")
    await committed(a.ctx, service.post_note, "tenants", "Assembly on Sunday")

    async def claim(owner: str) -> list[Delivery]:
        async with a.ctx.sessions.begin() as session:
            return list(await claim_due(session, Delivery, now=a.ctx.clock(), owner=owner, lease=LEASE, limit=10))

    [row] = await claim("busy")
    async with keep_leased(a.ctx.sessions, a.ctx.clock, Delivery, lambda: [row.id], owner="busy", lease=LEASE):
        # Lease time is real time here: three leases pass while the busy worker still works on the row
        # (a batch waiting for its slowest delivery).
        await asyncio.sleep(3 * LEASE.total_seconds())
        assert await claim("other") == [], "another worker took a row its owner was still working on"
    await asyncio.sleep(LEASE.total_seconds() * 1.5)
    assert [r.id for r in await claim("other")] == [row.id]  # no renewals any more: nothing is stuck
