"""The content generation: raised inside every transaction that writes shown content, read by caches.

Every transaction with an INSERT, UPDATE or DELETE on a table that pages or documents show raises the one
number of ``content_generation`` once, just before it commits: it commits or rolls back with
the change, whatever wrote it (a web form, the worker, a CLI command, another process). A cache that
read the number before rendering and finds it unchanged knows nothing it showed has changed since.

The tables left out are queues and bookkeeping no public answer shows; any other table counts, so a
table added later is safe by default.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fedihub.storage.db import Sessions
from fedihub.storage.models import ContentGeneration

log = logging.getLogger(__name__)

TABLE = "content_generation"
READ = f"SELECT generation FROM {TABLE} WHERE id = 1"
# Queues, leases, mail and private bookkeeping: no public page or document reads them.
NOT_SHOWN = frozenset({
    TABLE, "alembic_version", "inbox_items", "deliveries", "jobs", "domain_health", "mail_outbox",
    "subscription_mails", "notice_mails", "notices", "notice_reads", "notice_preferences", "invites",
    "mail_subscriptions", "reports", "report_coalitions",
})
BUMP = f"UPDATE {TABLE} SET generation = generation + 1 WHERE id = 1"
# A statement given as text: its verb and table (compiled statements name their table directly).
_TEXT_DML = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# Set on the connection's info once its transaction wrote shown content: raise the number at commit.
_WROTE = "fedihub_content_written"


def written_table(statement: str, context: Any) -> str | None:
    """The table an INSERT, UPDATE or DELETE writes; None for anything else."""
    compiled = getattr(context, "compiled", None)
    if compiled is not None and (context.isinsert or context.isupdate or context.isdelete):
        table = getattr(compiled.statement, "table", None)
        name = getattr(table, "name", None)
        return name if isinstance(name, str) else ""
    match = _TEXT_DML.match(statement)
    return match.group(1) if match else None


def track_content_writes(engine: AsyncEngine) -> None:
    """Raise the generation in every transaction of ``engine`` that writes shown content.

    Installed by the composition root once the schema is current (migrations write without it).
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if conn.info.get(_WROTE):
            return
        table = written_table(statement, context)
        if table is not None and table.lower() not in NOT_SHOWN:
            conn.info[_WROTE] = True

    @event.listens_for(sync_engine, "commit")
    def _raise_before_commit(conn: Any) -> None:
        # Raised as the transaction's last statement, not at its first write: on PostgreSQL the row stays
        # locked until commit, so a raise at the first write would queue every concurrent writer (the
        # inbox batches, several workers) behind each other and could deadlock two of them on their data
        # rows. Here nothing runs between the raise and the commit.
        if not conn.info.pop(_WROTE, False):
            return
        # A cursor of its own, below SQLAlchemy: the transaction is committing.
        own = conn.connection.dbapi_connection.cursor()
        try:
            own.execute(BUMP)
        finally:
            own.close()

    def _forget(conn: Any, *args: Any) -> None:
        conn.info.pop(_WROTE, None)

    # A rolled-back savepoint keeps the mark: an extra raise only makes a cache render once more.
    for name in ("begin", "rollback"):
        event.listen(sync_engine, name, _forget)


async def current_generation(session: AsyncSession) -> int:
    return int(await session.scalar(select(ContentGeneration.generation).where(ContentGeneration.id == 1)) or 0)


GenerationReader = Callable[[], Awaitable[int | None]]


def build_generation_reader(engine: AsyncEngine, sessions: Sessions) -> GenerationReader:
    """How a cache asks for the current generation, once per request it might answer: None if unknown.

    On an SQLite file, one primary-key read on a connection of its own in the event loop's thread
    (microseconds, under WAL never waiting for a writer): through the async driver the same read
    costs two thread hand-offs, more than the whole cached answer. Elsewhere, a read session.
    """
    path = make_url(str(engine.url)).database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        async def read_in_session() -> int | None:
            async with sessions() as session:
                return await current_generation(session)

        return read_in_session
    connection: sqlite3.Connection | None = None

    async def read_from_file() -> int | None:
        nonlocal connection
        try:
            if connection is None:
                # Autocommit and read-only: each read sees the last commit and can never write.
                connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.05,
                                             isolation_level=None, check_same_thread=False)
            row = connection.execute(READ).fetchone()
        except sqlite3.Error as exc:
            # Busy for a moment, or the file is being replaced: answer as if nothing were cached.
            log.warning("content generation not read: %s", exc)
            return None
        return int(row[0]) if row else None

    return read_from_file
