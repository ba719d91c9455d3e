"""SQLite through aiosqlite as SQLAlchemy drives it, with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adaptation makes four trips for each statement: open a cursor, execute, fetch
the rows, close the cursor. Each trip is a hand-off to aiosqlite's thread and back, and the answer
waits for the event loop's next turns, behind whatever else the loop has ready. While the in-process
worker delivers a fan-out, a turn takes a millisecond or more, so a call page of ten statements
waited about a hundred turns (bench/call_page.py). Here a statement runs, has its rows read and its
cursor closed in one call on the connection's thread; the cursor SQLAlchemy holds answers from
what that call kept. The rollback the pool makes whenever a connection comes back is skipped when no
transaction is open. Errors and server-side cursors are aiosqlite's own, unchanged.

This leans on private names of SQLAlchemy's adaptation (``_cursor_cls``, ``_make_new_cursor``) and of
aiosqlite (``Connection._execute``); both are pinned in the lock file, and the whole suite runs on it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: aiosqlite.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the statement's description, row count, last row id and rows."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        # Read after the rows: for a statement with RETURNING, sqlite3 counts rows as they are read.
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class StatementCursor:
    """Stands in for aiosqlite's cursor: each execute is one trip, and the rows wait here."""

    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> StatementCursor:
        self._keep(await self._connection._execute(_run, self._connection, sql, parameters or (), False))
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> StatementCursor:
        self._keep(await self._connection._execute(_run, self._connection, sql, parameters, True))
        return self

    def _keep(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchall(self) -> list[Any]:
        # The only fetch SQLAlchemy makes on a buffered cursor: it reads every row right after execute
        # and answers fetchone and fetchmany from its own copy (connectors/asyncio.py).
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        """No trip: the sqlite3 cursor was closed on the thread, with its statement."""
        self._rows = []


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # StatementCursor.close makes no trip

    def _make_new_cursor(self, connection: Any) -> Any:
        return StatementCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # already open: no trip to make


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    def rollback(self) -> None:
        # The pool rolls back every connection handed back to it, committed ones included; sqlite3
        # knows whether a transaction is open (a plain read of the connection's autocommit flag,
        # allowed from any thread), so a trip is made only when there is one to roll back.
        connection = self._connection._connection
        if connection is not None and not connection.in_transaction:
            return
        super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to hand to create_async_engine(module=...) for a ``sqlite+aiosqlite`` URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*args, **kwargs)
        return _Connection(self, adapted._connection)
