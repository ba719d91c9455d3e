"""Engine and session factories for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

Sessions = async_sessionmaker[AsyncSession]

# Set on the engine behind read sessions: the SQLite "begin" hook reads it from the connection.
READ_ONLY = "fedihub_read_only"


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        module = None
        if url.get_driver_name() == "aiosqlite":
            # Deferred: PostgreSQL deployments never load aiosqlite.
            from fedihub.storage.sqlite_driver import OneTripDBAPI

            module = OneTripDBAPI()
        engine = create_async_engine(url, connect_args={"timeout": 30}, module=module)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        info = connection.connection.info
        if info.get(READ_ONLY) != read_only:
            # A pooled connection serves readers and writers in turn: a reader's write must fail at once.
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            info[READ_ONLY] = read_only
        # A reader issues no BEGIN: each statement reads the last commit on its own, as every
        # statement does on PostgreSQL under READ COMMITTED, the isolation its read sessions have.
        # Under WAL such a read never takes the write lock nor queues behind the worker's writes,
        # and a page's reads make no trips for BEGIN and ROLLBACK (sqlite_driver.py skips the latter).
        if not read_only:
            # A deferred transaction that later writes can fail at once with SQLITE_BUSY instead of
            # waiting; taking the write lock up front makes concurrent writers queue on busy_timeout.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_session_factory(engine: AsyncEngine) -> Sessions:
    """Sessions for transactions that only read (public pages and documents).

    On SQLite they run under ``PRAGMA query_only`` without BEGIN, each statement reading the last
    commit (as under PostgreSQL's READ COMMITTED): they never wait for a writer, and a write by
    mistake fails at once. On PostgreSQL, where readers never wait for writers, they are
    the same as the writers' sessions.
    """
    if engine.dialect.name != "sqlite":
        return create_session_factory(engine)
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
