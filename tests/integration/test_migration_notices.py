"""Migration 0016: the notices tables come and go, and what 0015 held is untouched either way."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.migrations import engine, migrate

NOW = datetime(2026, 12, 3, 9, 30)

__all__ = ["engine"]  # a fixture used by name below

TABLES = {"notices", "notice_reads", "notice_preferences", "notice_mails"}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


@pytest.mark.all_backends
async def test_the_notices_tables_are_added_and_removed(engine: AsyncEngine) -> None:
    await migrate(engine, "0015")
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO accounts (username, password_hash, is_admin, created_at, session_generation) "
                 "VALUES ('maria', 'x', false, :now, 0)"), {"now": NOW},
        )
    assert not TABLES & await _tables(engine)

    await migrate(engine, "head")
    assert TABLES <= await _tables(engine)

    await migrate(engine, "0015", down=True)
    assert not TABLES & await _tables(engine)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT username FROM accounts"))).scalars().all() == ["maria"]
