"""Migration 0018: the replies and fediverse-members tables come and go without touching what was there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fedihub.storage.db import create_session_factory
from fedihub.storage.models import Actor
from tests.support.migrations import engine, insert_row, migrate

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)

__all__ = ["engine"]  # a fixture used by name below


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


@pytest.mark.all_backends
async def test_the_conversation_tables_are_added_and_removed_around_existing_actors(engine: AsyncEngine) -> None:
    await migrate(engine, "0015")
    async with create_session_factory(engine).begin() as session:
        await insert_row(session, Actor, uri="http://local.test/g/tenants", is_local=True, domain="local.test",
                         type="Group", username="tenants", created_at=NOW, updated_at=NOW)

    await migrate(engine, "0018")
    assert {"call_replies", "fediverse_members"} <= await _tables(engine)

    await migrate(engine, "0015", down=True)
    assert not {"call_replies", "fediverse_members"} & await _tables(engine)
    async with create_session_factory(engine)() as session:
        assert (await session.scalars(select(Actor.uri))).all() == ["http://local.test/g/tenants"]
