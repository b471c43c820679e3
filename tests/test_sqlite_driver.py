"""SQLite through aiosqlite, one crossing to the driver's thread per statement (storage/sqlite_driver.py), P12:
the order page's reads cost SQLite's work, not four thread hand-overs per statement; and nothing a statement
reports (rows, row counts, errors, rollbacks) changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shop_privacy.storage.database import Database

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite driver's adapter; PostgreSQL runs on psycopg")
    return database_url


async def run(session: AsyncSession, sql: str, parameters: Any = None) -> Any:
    return await (await session.connection()).execute(text(sql), parameters)


@contextmanager
def crossings() -> Iterator[list[str]]:
    """The functions handed to aiosqlite's thread while the block runs (the real driver, counted)."""
    handed: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield handed
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]


@pytest.mark.policy("P12")
async def test_p12_each_statement_on_sqlite_crosses_to_the_drivers_thread_once(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.read() as session:  # a pooled connection exists: its opening is not counted
            await run(session, "SELECT 1")
        with crossings() as handed:
            async with db.read() as session:
                rows = [(await run(session, f"SELECT {n}, 'x'")).all() for n in range(3)]
        assert rows == [[(0, "x")], [(1, "x")], [(2, "x")]]
        # BEGIN, three SELECTs, and the ROLLBACK that ends the read: the old adapter handed over 16.
        assert len(handed) == 5, handed
        with crossings() as handed:
            async with db.transaction() as session:
                await run(session, "SELECT 1")
        # BEGIN IMMEDIATE, the SELECT, COMMIT; the pool's rollback on return has nothing to undo and stays home.
        assert len(handed) == 3, handed
    finally:
        await db.dispose()


@pytest.mark.policy("P12")
async def test_p12_row_counts_last_row_ids_errors_and_rollbacks_come_through_as_before(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.transaction() as session:
            await run(session, "CREATE TABLE driver_probe (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
            inserted = await run(session, "INSERT INTO driver_probe (name) VALUES ('a')")
            assert inserted.lastrowid == 1
            many = await run(session, "INSERT INTO driver_probe (name) VALUES (:name)",
                                         [{"name": "b"}, {"name": "c"}])
            assert many.rowcount == 2
            updated = await run(session, "UPDATE driver_probe SET name = name || '!' WHERE id > 1")
            assert updated.rowcount == 2  # what conditional updates rely on ("the later ones update nothing")
        with pytest.raises(IntegrityError) as raised:
            async with db.transaction() as session:
                await run(session, "INSERT INTO driver_probe (name) VALUES ('z')")
                await run(session, "INSERT INTO driver_probe (name) VALUES ('a')")
        assert "UNIQUE" in str(raised.value.orig)
        async with db.read() as session:
            names = (await run(session, "SELECT name FROM driver_probe ORDER BY id")).scalars().all()
        assert names == ["a", "b!", "c!"]  # the failed transaction's first insert was rolled back
    finally:
        await db.dispose()


def _driver_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if "_connection_worker_thread" in thread.name}


@pytest.mark.policy("P12")
async def test_p12_a_database_that_cannot_be_opened_leaves_no_driver_thread_behind(tmp_path: Path) -> None:
    """A command run against a missing folder exits with one line, not with a traceback from aiosqlite's
    thread reporting to the command's event loop after it closed."""
    before = _driver_threads()
    db = Database(f"sqlite:///{tmp_path / 'no-such-folder' / 'shop.db'}")
    try:
        with pytest.raises(OperationalError):
            async with db.read() as session:
                await run(session, "SELECT 1")
        assert not [thread for thread in _driver_threads() - before if thread.is_alive()]
    finally:
        await db.dispose()
