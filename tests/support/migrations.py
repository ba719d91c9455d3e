"""Migration tests' tools: an engine on an empty database of either backend, and Alembic run as fedihub runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase

from fedihub.storage.db import create_engine
from fedihub.storage.migrate import alembic_config


@pytest.fixture
async def engine(database_url: str, backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database (the factory's databases are migrated to head already)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'from-empty.sqlite3'}"
    else:
        url = database_url
        emptying = create_engine(url)
        try:
            async with emptying.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        finally:
            await emptying.dispose()
    migrated = create_engine(url)
    try:
        yield migrated
    finally:
        await migrated.dispose()


async def migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) to ``revision`` the way fedihub does: Alembic on the app's own connection."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def insert_row(session: AsyncSession, model: type[DeclarativeBase], **values: object) -> int:
    """Insert a row of an older schema and return its id.

    Only the columns given (and those with a Python-side default) are written: the ORM would write
    every column the model has today, which a database at an older revision lacks.
    """
    table = model.__table__
    row_id = await session.scalar(insert(table).values(**values).returning(table.c.id))  # type: ignore[attr-defined]
    assert isinstance(row_id, int)
    return row_id
