"""A migrated database per test: SQLite files copied from a template, PostgreSQL databases cloned from one.

Under pytest-xdist each worker process has a factory of its own: its own templates, database names
that carry the worker's name and a random session tag. A test's databases are removed when the test
ends (PostgreSQL ones on a background thread), the templates when the worker ends.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Awaitable, Callable
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


class _BackgroundDrops:
    """Drops PostgreSQL databases on a thread of its own while the tests go on.

    Each DROP DATABASE waits for a checkpoint (a few hundred milliseconds on a busy machine); done at
    the end of the session they made a tail of a minute or more, done here they overlap with tests.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._connect = connect
        self._names: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._drop_each()), name="drop-databases")
        self._thread.start()

    def put(self, name: str) -> None:
        self._names.put(name)

    def close(self) -> None:
        """Wait for every database handed over to be dropped; raise the first failure."""
        self._names.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    async def _drop_each(self) -> None:
        admin: asyncpg.Connection | None = None
        try:
            while (name := await asyncio.to_thread(self._names.get)) is not None:
                if self._error is not None:
                    continue
                try:
                    admin = admin or await self._connect()
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except BaseException as exc:  # reported by close(), in the session's teardown
                    self._error = exc
        finally:
            if admin is not None:
                await admin.close()


class DatabaseFactory:
    """Makes fresh migrated databases quickly by copying a template migrated once per session."""

    def __init__(self, workdir: Path, worker: str | None = None) -> None:
        self.workdir = workdir
        worker = worker or os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.session_tag = f"{worker}_{uuid.uuid4().hex[:8]}"
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None  # set once migrated
        self._pg_template_made: str | None = None
        self._pg_live: set[str] = set()
        self._drops: _BackgroundDrops | None = None
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
                self._pg_template_made = name
                await _migrate(_async_url(POSTGRES_ADMIN_DSN, name))
                self._pg_template = name
        name = f"fedihub_t_{self.session_tag}_{uuid.uuid4().hex[:10]}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        finally:
            await admin.close()
        self._pg_live.add(name)
        return _async_url(POSTGRES_ADMIN_DSN, name)

    async def create(self, backend: str) -> str:
        return await (self.sqlite() if backend == "sqlite" else self.postgresql())

    def release(self, url: str) -> None:
        """The test that had ``url`` is over (its engines are disposed): remove the database."""
        if url.startswith("sqlite"):
            path = Path(url.split("///", 1)[1])
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[1]
        if name in self._pg_live:
            self._pg_live.discard(name)
            if self._drops is None:
                self._drops = _BackgroundDrops(self._admin)
            self._drops.put(name)

    async def drop_all(self) -> None:
        """At the end of the session: every database this factory made is gone, its template too."""
        try:
            if self._drops is not None:
                await asyncio.to_thread(self._drops.close)
        finally:
            left = sorted(self._pg_live) + ([self._pg_template_made] if self._pg_template_made else [])
            if left:
                admin = await self._admin()
                try:
                    for name in left:
                        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await admin.close()
