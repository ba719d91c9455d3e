"""Retention: the daily job prunes processed inbox items and finished deliveries, keeps failures longer,
and never touches published activities or work still to do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.storage.models import Activity, Delivery, InboxItem
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

# Leases, upserts and transactions behave differently on each database: both are tested.
pytestmark = pytest.mark.all_backends


def _item(n: int, state: str, processed_days_ago: float | None, now) -> InboxItem:  # type: ignore[no-untyped-def]
    processed = now - timedelta(days=processed_days_ago) if processed_days_ago is not None else None
    return InboxItem(
        activity_uri=f"https://peer.test/activities/{n}", activity_type="Like", actor_uri="https://peer.test/u/a",
        payload={"id": f"https://peer.test/activities/{n}", "type": "Like"}, state=state, attempts=1,
        next_attempt_at=now, received_at=processed or now, processed_at=processed,
    )


async def _uris(instance: Instance) -> set[str]:
    async with instance.ctx.sessions() as session:
        return set((await session.scalars(select(InboxItem.activity_uri))).all())


async def test_the_daily_job_prunes_old_work_and_keeps_failures_longer(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    now = net.clock()
    async with a.ctx.sessions.begin() as session:
        session.add_all([
            _item(1, "done", 31, now),     # processed over 30 days ago: pruned
            _item(2, "done", 20, now),     # recent: kept (it still deduplicates a late redelivery)
            _item(3, "failed", 31, now),   # a failure is kept for the operator …
            _item(4, "failed", 91, now),   # … for 90 days
            _item(5, "pending", None, now),  # still to do: never pruned
        ])
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike meeting on Thursday")
    async with a.ctx.sessions.begin() as session:
        activity = await session.scalar(select(Activity).where(Activity.object_uri == note.uri))
        assert activity is not None
        session.add_all([
            Delivery(activity_id=activity.id, inbox_url=f"https://peer{n}.test/inbox", domain=f"peer{n}.test",
                     state=state, attempts=1, next_attempt_at=now, created_at=now - timedelta(days=days),
                     delivered_at=now - timedelta(days=days) if state == "delivered" else None)
            for n, state, days in [(1, "delivered", 31), (2, "delivered", 2), (3, "dead", 31), (4, "dead", 95)]
        ])

    await a.runtime.worker.run_once()
    assert len(await _uris(a)) == 5  # starting the worker prunes nothing: the job is daily
    net.clock.advance(days=1, seconds=1)
    await a.runtime.worker.run_once()

    left = await _uris(a)
    assert {f"https://peer.test/activities/{n}" for n in (2, 3, 5)} <= left
    assert not {f"https://peer.test/activities/{n}" for n in (1, 4)} & left
    async with a.ctx.sessions() as session:
        inboxes = set((await session.scalars(select(Delivery.inbox_url))).all())
        published = await session.scalar(select(Activity.id).where(Activity.object_uri == note.uri))
    assert inboxes == {"https://peer2.test/inbox", "https://peer3.test/inbox"}
    assert published is not None  # the Create's id keeps dereferencing
