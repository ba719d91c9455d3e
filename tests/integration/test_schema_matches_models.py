"""The models and the migrations describe the same schema, on SQLite and PostgreSQL (Alembic's compare)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String
from sqlalchemy.engine import Connection

from fedihub.storage.db import create_engine
from fedihub.storage.models import Base

# Compare column types and server defaults too, not only tables, columns, indexes and constraints.
COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}


async def schema_differences(database_url: str, metadata: MetaData) -> list[Any]:
    """What `alembic revision --autogenerate` would write to bring the database to ``metadata``."""

    def compare(connection: Connection) -> list[Any]:
        return compare_metadata(MigrationContext.configure(connection, opts=COMPARE_OPTIONS), metadata)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_a_migrated_database_has_exactly_the_tables_columns_and_indexes_of_the_models(
    database_url: str,
) -> None:
    # No difference is ignored: on both backends the migrations reproduce the models exactly.
    assert await schema_differences(database_url, Base.metadata) == []


async def test_a_column_the_migrations_lack_is_reported(database_url: str) -> None:
    """The comparison sees drift: a model column with no migration behind it is one difference."""
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["actors"].append_column(Column("pronouns", String(40), nullable=True))

    differences = await schema_differences(database_url, drifted)

    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "actors", "pronouns")]
