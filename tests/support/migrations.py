"""Migration tests' tools: an engine on an empty database of either backend, and Alembic run as fedihub runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import column as sa_column
from sqlalchemy import insert, inspect
from sqlalchemy import table as sa_table
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

    Only the columns given (and those with a scalar Python-side default that the database has) are
    written: the ORM, and Core's own defaults, would write every column the model has today, which a
    database at an older revision lacks.
    """
    table = model.__table__
    present = await session.run_sync(
        lambda sync: {column["name"] for column in inspect(sync.connection()).get_columns(table.name)}
    )
    # Python-side defaults of columns this revision has; a column added later is left out, default or not.
    row = {
        column.name: column.default.arg(None) if column.default.is_callable else column.default.arg
        for column in table.c  # type: ignore[attr-defined]
        if column.name in present and column.name not in values and column.default is not None
        and (column.default.is_scalar or column.default.is_callable)
    }
    row.update(values)
    older = sa_table(table.name, *(sa_column(name, table.c[name].type) for name in [*row, "id"]))  # type: ignore[attr-defined]
    row_id = await session.scalar(insert(older).values(**row).returning(older.c.id))
    assert isinstance(row_id, int)
    return row_id
