"""The engine and units of work. Every write runs in one transaction that commits or leaves no trace.

Two rules keep many concurrent requests from starving each other of connections:
- a task never holds one pooled connection while it waits for another (`NestedConnection` is raised
  at once, so a nested block fails in the tests instead of hanging under load);
- on SQLite, writers queue in the process for the one write lock SQLite has, without holding a
  connection while they wait; other processes are waited for by SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Row, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from .sqlite_driver import one_crossing_dbapi
from .urls import DatabaseURL

_SQLITE_BEGIN = "shop_privacy_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# (database, task) while that task holds a connection of that database in a block.
_HOLDER: ContextVar[tuple[Database, asyncio.Task[Any] | None] | None] = ContextVar("shop_privacy_db_holder",
                                                                                    default=None)


class NestedConnection(RuntimeError):
    """A block asked for a second connection while its task already holds one: under load every
    request would wait for a connection that only another waiting request can give back."""


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE for writes so two writers queue instead of deadlocking."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        # Unicode-aware lower() (SQLite's own folds only ASCII), for case-insensitive name searches.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))


async def core_rows(session: AsyncSession, statement: Any, parameters: dict[str, Any]) -> Sequence[Row[Any]]:
    """The rows of a Core statement (built once, with bound parameters), run on the session's connection in
    its transaction: the ORM's result handling adds nothing to Core rows, and costs on every request."""
    connection = await session.connection()
    return (await connection.execute(statement, parameters)).all()


class Database:
    def __init__(self, url: str | DatabaseURL, **engine_kwargs: Any) -> None:
        self.url = url if isinstance(url, DatabaseURL) else DatabaseURL.parse(url)
        if not self.url.is_sqlite:
            engine_kwargs.setdefault("pool_pre_ping", True)
            # A database that drops packets instead of refusing must not hold requests for the OS's TCP timeout.
            engine_kwargs.setdefault("connect_args", {"connect_timeout": 5})
        else:
            engine_kwargs.setdefault("module", one_crossing_dbapi())  # one thread crossing per statement
        self.engine = create_async_engine(self.url.async_url, **engine_kwargs)
        write_engine = self.engine
        if self.url.is_sqlite:
            _configure_sqlite(self.engine)
            write_engine = self.engine.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        self._reads = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._writes = async_sessionmaker(write_engine, class_=AsyncSession, expire_on_commit=False)
        # One per event loop: the CLI runs more than one loop over the same services.
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Marks the current task as holding a connection of this database for the block."""
        task = asyncio.current_task()
        current = _HOLDER.get()
        if current is not None and current[0] is self and current[1] is task:
            raise NestedConnection("a database block was opened inside another one of the same task")
        marker = _HOLDER.set((self, task))
        try:
            yield
        finally:
            _HOLDER.reset(marker)

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        if not self.url.is_sqlite:
            yield  # PostgreSQL: row locks inside the transaction order the writers
            return
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        async with lock:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls everything back if it raises."""
        with self.holding():
            async with self._write_turn(), self._writes() as session, session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read: one snapshot, closed when the block ends."""
        with self.holding():
            async with self._reads() as session:
                yield session

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL only: a connection whose statements each commit alone (autocommit), for work that is
        one atomic statement and needs no transaction around it: no BEGIN, no COMMIT, two round trips less."""
        if self.url.is_sqlite:
            raise RuntimeError("statements() is for PostgreSQL; SQLite writes take their turn in transaction()")
        with self.holding():
            async with self.engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                yield connection

    def reader(self) -> AsyncSession:
        """A session for reads that outlives one block (a request's); the caller closes it and marks
        each block with `holding()`."""
        return self._reads()

    async def dispose(self) -> None:
        await self.engine.dispose()
