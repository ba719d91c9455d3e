"""Schema migrations through Alembic, run on an async engine's connection."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

# Inside the package, so an installed wheel migrates as well as a checkout does.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# Revisions are numbered and chained in order ("0022_languages.py" holds revision "0022", down from "0021");
# tests/unit/test_migrations_chain.py checks that the newest file is Alembic's one head.
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def newest_revision() -> str:
    """The head revision, read from the file names: no Alembic needed to know it."""
    numbers = [m.group(1) for p in (MIGRATIONS_DIR / "versions").iterdir() if (m := _REVISION_FILE.match(p.name))]
    return max(numbers)


async def _database_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None without a version table (a new database)."""
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:
        return None
    return found[0] if len(found) == 1 else None


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the database schema to the newest revision (idempotent)."""
    # Alembic and its templates cost about 11 MB resident and a quarter of a second: a server (or a command)
    # starting on a current database, the usual case, never loads them.
    if await _database_revision(engine) == newest_revision():
        return
    from alembic import command

    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest revision."""
    return await _database_revision(engine) == newest_revision()
