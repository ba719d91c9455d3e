"""Migration 0014: a server with memberships of its coalitions gets the backfill job; one without, none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from fedihub.hubs import two_way
from fedihub.storage.db import create_session_factory
from fedihub.storage.models import Actor, HubSettings, Job
from tests.support.migrations import engine, insert_row, migrate

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

__all__ = ["engine"]  # a fixture used by name below


@pytest.mark.all_backends
async def test_existing_memberships_of_local_members_queue_the_backfill_once(engine: AsyncEngine) -> None:
    await migrate(engine, "0013")
    async with create_session_factory(engine).begin() as session:
        hub = await insert_row(session, Actor, uri="https://hub.example/g/state", is_local=False,
                               domain="hub.example", type="Group", created_at=NOW, updated_at=NOW)
        member = await insert_row(session, Actor, uri="http://local.test/g/tenants", is_local=True,
                                  domain="local.test", type="Group", username="tenants", created_at=NOW, updated_at=NOW)
        session.add(HubSettings(actor_id=hub, scope="state"))
        # The follows table as it was at 0013 (the model has the new column already).
        await session.execute(
            text("INSERT INTO follows (uri, follower_id, target_id, state, created_at, updated_at) "
                 "VALUES ('https://hub.example/f/1', :hub, :member, 'accepted', :now, :now)"),
            {"hub": hub, "member": member, "now": NOW.replace(tzinfo=None)},
        )

    await migrate(engine, "head")

    async with create_session_factory(engine)() as session:
        [job] = (await session.scalars(select(Job))).all()
    assert (job.kind, job.state) == (two_way.SWEEP_JOB, "pending")
    assert job.next_attempt_at < NOW  # due at once, whatever the clock says


@pytest.mark.all_backends
async def test_a_server_without_memberships_gets_no_job(engine: AsyncEngine) -> None:
    await migrate(engine, "head")
    async with create_session_factory(engine)() as session:
        assert (await session.scalars(select(Job))).all() == []
