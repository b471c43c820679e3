"""SQLite through aiosqlite with one crossing to the driver's thread per statement.

aiosqlite runs each SQLite connection in a thread of its own. SQLAlchemy's adapter for it crosses to that
thread once to make a cursor, once to execute, once to fetch the rows and once to close the cursor: four
crossings of about 85 µs each (queue, thread wake-up, the event loop's wake-up), which for a short read
cost more than SQLite's work. Here a statement is one function run on that thread (execute, read the
description, row count, last row id and every row, close), so a statement crosses once; the rows wait in
the cursor as they do in SQLAlchemy's adapter, which already reads them all at once. A rollback with no
transaction open (a pooled connection returned after its commit) does not cross at all.

It plugs into SQLAlchemy's own aiosqlite dialect as its DBAPI module (`create_async_engine(module=...)`),
and leans on aiosqlite's queue of functions for its thread (`Connection._execute`), as SQLAlchemy's
adapter itself does to set the isolation level.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# How long a failed open waits for aiosqlite's thread to stop (it has one function left to run).
_STOP_SECONDS = 5.0
# What a statement leaves behind: (description, rowcount, lastrowid, rows).
Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """One statement, on the connection's own thread."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.rowcount, cursor.lastrowid, cursor.fetchall() if description else []
    finally:
        cursor.close()


class OneCrossingCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor with no driver cursor of its own: each statement runs whole on the driver's thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every row is read with the statement

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._statement(operation, () if parameters is None else parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._statement(operation, seq_of_parameters, many=True)

    def _statement(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            self._description, self._rowcount, self._lastrowid, rows = await_(self._crossing(operation, parameters,
                                                                                             many))
        except Exception as error:  # noqa: BLE001 - translated as SQLAlchemy's adapter does
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(rows)

    async def _crossing(self, operation: Any, parameters: Any, many: bool) -> Outcome:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            return await connection._execute(_run, connection._conn, operation, parameters, many)  # type: ignore[no-any-return]

    async def _async_soft_close(self) -> None:
        pass  # nothing to close on the driver's side

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneCrossingConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneCrossingCursor

    def rollback(self) -> None:
        driver = self._connection._connection
        # Nothing to roll back (the usual case: a connection returned to the pool after its commit).
        if driver is not None and not driver.in_transaction:
            return
        super().rollback()


class OneCrossingDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneCrossingConnection:
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter: the thread never keeps the process alive
        try:
            return OneCrossingConnection(self, await_(connection))
        except BaseException:
            # After a failed open aiosqlite stops its thread without waiting for it; the thread then reports to
            # an event loop that may be closed by then (a command's exit) and prints a traceback. It has only
            # that stop left to run.
            connection._thread.join(_STOP_SECONDS)
            raise


def one_crossing_dbapi() -> OneCrossingDBAPI:
    """The DBAPI module for `create_async_engine(..., module=...)` on a `sqlite+aiosqlite` URL."""
    return OneCrossingDBAPI(aiosqlite, sqlite3)
