"""The engine and units of work. Every write runs in one transaction that commits or leaves no trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from .urls import DatabaseURL

_SQLITE_BEGIN = "shop_privacy_sqlite_begin"


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
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))


class Database:
    def __init__(self, url: str | DatabaseURL, **engine_kwargs: Any) -> None:
        self.url = url if isinstance(url, DatabaseURL) else DatabaseURL.parse(url)
        if not self.url.is_sqlite:
            engine_kwargs.setdefault("pool_pre_ping", True)
        self.engine = create_async_engine(self.url.async_url, **engine_kwargs)
        write_engine = self.engine
        if self.url.is_sqlite:
            _configure_sqlite(self.engine)
            write_engine = self.engine.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        self._reads = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._writes = async_sessionmaker(write_engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls everything back if it raises."""
        async with self._writes() as session, session.begin():
            yield session

    def reader(self) -> AsyncSession:
        """A session for reads; the caller closes it."""
        return self._reads()

    async def dispose(self) -> None:
        await self.engine.dispose()
