"""A migrated database per test: SQLite files copied from a template, PostgreSQL databases cloned from one.

Under pytest-xdist each worker process has a factory of its own: its own templates, and database
names that carry the worker's name and a random session tag. A PostgreSQL database a test is done
with is emptied back to the template's state and handed to the next test (see ``_reset``): a
CREATE DATABASE and a DROP DATABASE cost 100 to 300 ms each on a busy machine, DROP waiting for a
checkpoint, where emptying costs a few milliseconds. The worker drops what is left when it ends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from fedihub.storage.db import create_engine
from fedihub.storage.migrate import upgrade_to_head

POSTGRES_ADMIN_DSN = os.environ.get("FEDIHUB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")

# Everything a test could change about a schema: if a database's answer differs from its template's
# (a migration test downgraded it, say), it is dropped rather than emptied for the next test.
SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, E'\n' ORDER BY item), '')) FROM (
    SELECT 'n ' || nspname AS item FROM pg_namespace
     WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    UNION ALL SELECT 'r ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || a.attname || ' '
                    || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
                    || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    UNION ALL SELECT 'i ' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 'k ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 't ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
) AS schema
"""
USER_TABLES = """
SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2
"""
SEQUENCES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), coalesce(last_value, start_value),
       last_value IS NOT NULL
  FROM pg_sequences ORDER BY 1
"""


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


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plain_dsn(database: str) -> str:
    return _async_url(POSTGRES_ADMIN_DSN, database).replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass
class _Snapshot:
    """What a migrated template holds, to put a used clone back into the same state."""

    fingerprint: str
    tables: list[tuple[str, str]]  # (schema, table)
    rows: dict[tuple[str, str], tuple[list[str], list[asyncpg.Record]]] = field(default_factory=dict)
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)

    @classmethod
    async def take(cls, conn: asyncpg.Connection) -> _Snapshot:
        tables = [(schema, table) for schema, table in await conn.fetch(USER_TABLES)]
        snapshot = cls(fingerprint=await conn.fetchval(SCHEMA_FINGERPRINT), tables=tables)
        for schema, table in tables:
            records = await conn.fetch(f"SELECT * FROM {_quote(schema)}.{_quote(table)}")
            if records:  # alembic_version, and whatever rows a migration inserts
                snapshot.rows[schema, table] = (list(records[0].keys()), records)
        snapshot.sequences = [(name, value, called) for name, value, called in await conn.fetch(SEQUENCES)]
        return snapshot


async def _reset(conn: asyncpg.Connection, template: _Snapshot) -> bool:
    """Empty a used clone back to its template's rows and sequences; False if its schema changed."""
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    if await conn.fetchval(SCHEMA_FINGERPRINT) != template.fingerprint:
        return False
    # The DELETEs and sequence resets in one round trip. Foreign keys are triggers, off for this
    # transaction, so the order of the DELETEs is free; nobody waits for this commit to be on disk.
    script = ["BEGIN", "SET LOCAL session_replication_role = replica", "SET LOCAL synchronous_commit = off"]
    script += [f"DELETE FROM {_quote(schema)}.{_quote(table)}" for schema, table in template.tables]
    resets = [f"setval({_literal(name)}::regclass, {value}, {called})" for name, value, called in template.sequences]
    if resets:
        script.append("SELECT " + ", ".join(resets))
    await conn.execute(";\n".join(script))
    try:
        for (schema, table), (columns, records) in template.rows.items():
            await conn.copy_records_to_table(table, schema_name=schema, records=records, columns=columns)
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
    return True


class DatabaseFactory:
    """Makes fresh migrated databases quickly from a template migrated once per session (per worker)."""

    def __init__(self, workdir: Path, worker: str | None = None) -> None:
        self.workdir = workdir
        worker = worker or os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.session_tag = f"{worker}_{uuid.uuid4().hex[:8]}"
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None  # set once migrated
        self._pg_template_made: str | None = None
        self._pg_snapshot: _Snapshot | None = None
        self._pg_in_use: set[str] = set()
        self._pg_free: list[str] = []
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

    async def _connect(self, database: str | None = None) -> asyncpg.Connection:
        dsn = POSTGRES_ADMIN_DSN if database is None else _plain_dsn(database)
        try:
            return await asyncpg.connect(dsn, timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise PostgresUnavailable(f"PostgreSQL at {POSTGRES_ADMIN_DSN} is not reachable: {exc}") from exc

    async def _execute(self, sql: str) -> None:
        admin = await self._connect()
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    async def _make_template(self) -> None:
        name = f"fedihub_tpl_{self.session_tag}"
        await self._execute(f'CREATE DATABASE "{name}"')
        self._pg_template_made = name
        await _migrate(_async_url(POSTGRES_ADMIN_DSN, name))
        conn = await self._connect(name)
        try:
            self._pg_snapshot = await _Snapshot.take(conn)
        finally:
            await conn.close()
        self._pg_template = name

    async def postgresql(self) -> str:
        async with self._lock:
            if self._pg_template is None:
                await self._make_template()
        if self._pg_free:
            name = self._pg_free.pop()
        else:
            name = f"fedihub_t_{self.session_tag}_{uuid.uuid4().hex[:10]}"
            await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        self._pg_in_use.add(name)
        return _async_url(POSTGRES_ADMIN_DSN, name)

    async def create(self, backend: str) -> str:
        return await (self.sqlite() if backend == "sqlite" else self.postgresql())

    async def release(self, url: str) -> None:
        """The test that had ``url`` is over: remove the database, or keep it emptied for the next test."""
        if url.startswith("sqlite"):
            path = Path(url.split("///", 1)[1])
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[1]
        if name not in self._pg_in_use:
            return
        self._pg_in_use.discard(name)
        assert self._pg_snapshot is not None
        try:
            conn = await self._connect(name)
            try:
                reusable = await _reset(conn, self._pg_snapshot)
            finally:
                await conn.close()
        except asyncpg.PostgresError:  # e.g. an admin role that may not turn triggers off
            reusable = False
        if reusable:
            self._pg_free.append(name)
        else:
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_all(self) -> None:
        """At the end of the session: every database this factory made is gone, its template too."""
        clones = sorted(self._pg_in_use) + self._pg_free
        template = [self._pg_template_made] if self._pg_template_made else []
        if not clones and not template:
            return

        async def drop(names: list[str]) -> None:
            admin = await self._connect()
            try:
                for name in names:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

        # Each DROP waits for a checkpoint; DROPs waiting together share one.
        await asyncio.gather(*(drop(clones[i::4]) for i in range(4)))
        await drop(template)
