"""A migrated database per test: SQLite files copied from a template, PostgreSQL databases cloned from one."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from fedihub.storage.db import create_engine
from fedihub.storage.migrate import upgrade_to_head

POSTGRES_ADMIN_DSN = os.environ.get("FEDIHUB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


class PostgresUnavailable(RuntimeError):
    pass


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def _async_url(dsn: str, database: str) -> str:
    rest = dsn.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{rest}/{database}"


class DatabaseFactory:
    """Makes fresh migrated databases quickly by copying a template migrated once per session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.session_tag = uuid.uuid4().hex[:8]
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_created: list[str] = []
        self._lock = asyncio.Lock()

    async def sqlite(self) -> str:
        async with self._lock:
            if self._sqlite_template is None:
                template = self.workdir / "template.sqlite3"
                await _migrate(f"sqlite+aiosqlite:///{template}")
                self._sqlite_template = template
        path = self.workdir / f"db-{uuid.uuid4().hex[:12]}.sqlite3"
        shutil.copyfile(self._sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def _admin(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
            raise PostgresUnavailable(f"PostgreSQL at {POSTGRES_ADMIN_DSN} is not reachable: {exc}") from exc

    async def postgresql(self) -> str:
        async with self._lock:
            if self._pg_template is None:
                name = f"fedihub_tpl_{self.session_tag}"
                admin = await self._admin()
                try:
                    await admin.execute(f'CREATE DATABASE "{name}"')
                finally:
                    await admin.close()
                self._pg_created.append(name)
                await _migrate(_async_url(POSTGRES_ADMIN_DSN, name))
                self._pg_template = name
        name = f"fedihub_t_{self.session_tag}_{uuid.uuid4().hex[:10]}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        finally:
            await admin.close()
        self._pg_created.append(name)
        return _async_url(POSTGRES_ADMIN_DSN, name)

    async def create(self, backend: str) -> str:
        return await (self.sqlite() if backend == "sqlite" else self.postgresql())

    async def drop_all(self) -> None:
        if not self._pg_created:
            return
        template, clones = self._pg_created[0], self._pg_created[1:]

        async def drop(names: list[str]) -> None:
            admin = await self._admin()
            try:
                for name in names:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

        # Each DROP waits for a checkpoint; a few connections in parallel cut the wait.
        await asyncio.gather(*(drop(clones[i::4]) for i in range(4)))
        await drop([template])
