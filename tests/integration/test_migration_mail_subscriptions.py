"""Migration 0017: the subscription tables and the outbox's attachments column arrive on a database with
mail queued already, and leave again on downgrade with the queued mail intact."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.migrations import engine, migrate

__all__ = ["engine"]  # a fixture used by name below


async def _tables(engine: AsyncEngine) -> dict[str, set[str]]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: {name: {c["name"] for c in inspect(sync).get_columns(name)}
                          for name in inspect(sync).get_table_names()}
        )


async def _queued(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return [row[0] for row in await connection.execute(text("SELECT subject FROM mail_outbox"))]


@pytest.mark.all_backends
async def test_upgrade_and_downgrade_keep_the_queued_mail(engine: AsyncEngine) -> None:
    await migrate(engine, "0015")
    async with engine.begin() as connection:
        await connection.execute(text(
            "INSERT INTO mail_outbox (recipient, subject, text_body, headers, state, attempts, next_attempt_at, "
            "created_at) VALUES ('a@example.org', 'Queued before', 'Hello', '{}', 'pending', 0, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))

    await migrate(engine, "0017")
    tables = await _tables(engine)
    assert {"mail_subscriptions", "subscription_mails"} <= set(tables)
    assert "attachments" in tables["mail_outbox"]
    assert await _queued(engine) == ["Queued before"]

    await migrate(engine, "0015", down=True)
    tables = await _tables(engine)
    assert "mail_subscriptions" not in tables and "attachments" not in tables["mail_outbox"]
    assert await _queued(engine) == ["Queued before"]
