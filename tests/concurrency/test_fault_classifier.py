"""The classifier of database faults (P15), on exceptions the real drivers raise: which are infrastructure
faults (unreachable, busy, disk full, read-only, I/O) and which are not (a bug, a constraint)."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from shop_privacy.storage.faults import Fault, classify
from shop_privacy.storage.urls import DatabaseURL

from ..servers import free_port

pytestmark = pytest.mark.policy("P15")

SECRET = "anna.hemlig@exempel.se"


def raised(statement: object) -> BaseException:
    """The exception `statement()` raises."""
    try:
        statement()  # type: ignore[operator]
    except BaseException as error:  # noqa: BLE001 - whatever it is, the test looks at it
        return error
    raise AssertionError("nothing was raised")


def kind(error: BaseException) -> Fault | None:
    fault = classify(error)
    if fault is not None:
        assert SECRET not in fault.code and "INSERT" not in fault.code  # only codes are kept
    return fault.kind if fault else None


# SQLite: the driver is always there, so this runs whichever database the suite is on


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "faults.db"
    with sqlite3.connect(path, isolation_level=None) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (v TEXT UNIQUE)")
    return path


def test_p15_sqlite_locked_past_the_busy_timeout_is_busy_also_through_sqlalchemy(sqlite_file: Path) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer
    try:
        waiter = sqlite3.connect(sqlite_file, timeout=0.05, isolation_level=None)
        busy = raised(lambda: waiter.execute("BEGIN IMMEDIATE"))
        assert isinstance(busy, sqlite3.OperationalError) and str(busy) == "database is locked"
        assert kind(busy) is Fault.BUSY
        waiter.close()
        # What the app sees: SQLAlchemy's wrapper, whose text quotes the parameters (so it is never logged).
        engine = create_engine(f"sqlite:///{sqlite_file}", connect_args={"timeout": 0.05})
        try:
            def insert() -> None:
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": SECRET})

            wrapped = raised(insert)
        finally:
            engine.dispose()
        assert isinstance(wrapped, sa_exc.OperationalError) and SECRET in str(wrapped)
        assert kind(wrapped) is Fault.BUSY
    finally:
        holder.close()


def test_p15_sqlite_read_only_disk_full_and_unopenable_are_told_apart(sqlite_file: Path, tmp_path: Path) -> None:
    read_only = sqlite3.connect(sqlite_file, isolation_level=None)
    read_only.execute("PRAGMA query_only = ON")
    error = raised(lambda: read_only.execute("INSERT INTO t VALUES (?)", (SECRET,)))
    assert str(error) == "attempt to write a readonly database" and kind(error) is Fault.READ_ONLY
    read_only.close()

    # A database that may not grow is as full as a full disk: SQLite answers SQLITE_FULL either way.
    full = sqlite3.connect(tmp_path / "full.db", isolation_level=None)
    full.execute("CREATE TABLE b (data BLOB)")
    pages = full.execute("PRAGMA page_count").fetchone()[0]
    full.execute(f"PRAGMA max_page_count = {pages}")
    error = raised(lambda: full.execute("INSERT INTO b VALUES (zeroblob(100000))"))
    assert str(error) == "database or disk is full" and kind(error) is Fault.DISK_FULL
    full.close()

    error = raised(lambda: sqlite3.connect(tmp_path / "no-such-volume" / "shop.db"))
    assert str(error) == "unable to open database file" and kind(error) is Fault.UNREACHABLE


def test_p15_sqlite_pool_exhaustion_is_busy(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}", poolclass=QueuePool, pool_size=1, max_overflow=0,
                           pool_timeout=0.05)
    try:
        with engine.connect():
            error = raised(engine.connect)
        assert isinstance(error, sa_exc.TimeoutError) and kind(error) is Fault.BUSY
    finally:
        engine.dispose()


def test_p15_errors_that_are_not_infrastructure_faults_stay_unclassified(sqlite_file: Path) -> None:
    connection = sqlite3.connect(sqlite_file, isolation_level=None)
    connection.execute("INSERT INTO t VALUES ('x')")
    assert kind(raised(lambda: connection.execute("INSERT INTO t VALUES ('x')"))) is None  # a constraint
    assert kind(raised(lambda: connection.execute("SELEC 1"))) is None  # a bug
    assert kind(raised(lambda: connection.execute("SELECT * FROM nowhere"))) is None  # a schema problem
    connection.close()
    assert kind(ValueError("bad")) is None


def test_p15_the_classifier_follows_causes_and_groups() -> None:
    locked = sqlite3.OperationalError("database is locked")  # as a wrapper re-raises it: message only
    try:
        raise RuntimeError("while adding to the cart") from locked
    except RuntimeError as error:
        assert kind(error) is Fault.BUSY
    assert kind(ExceptionGroup("task group", [ValueError("other"), locked])) is Fault.BUSY
    assert kind(sqlite3.OperationalError("disk I/O error")) is Fault.IO_ERROR
    # Raised by the layer holding the connection, not by SQLite (which always sets its code).
    assert kind(sqlite3.OperationalError("no active connection")) is Fault.UNREACHABLE


def test_p15_postgresql_codes_that_cannot_be_made_on_demand_map_by_sqlstate() -> None:
    """Disk full, a server starting up, a dropped connection: psycopg's own classes, wrapped as SQLAlchemy
    wraps them (these cannot be produced against the shared test server)."""
    expected = {psycopg.errors.DiskFull: Fault.DISK_FULL, psycopg.errors.CannotConnectNow: Fault.UNREACHABLE,
                psycopg.errors.ConnectionFailure: Fault.UNREACHABLE, psycopg.errors.TooManyConnections: Fault.BUSY,
                psycopg.errors.DeadlockDetected: Fault.BUSY, psycopg.errors.ReadOnlySqlTransaction: Fault.READ_ONLY,
                psycopg.errors.UniqueViolation: None, psycopg.errors.SyntaxError: None}
    for error_class, fault in expected.items():
        wrapped = sa_exc.OperationalError("INSERT INTO customers (email) VALUES (%(email)s)", {"email": SECRET},
                                          error_class("details"))
        assert kind(wrapped) is fault, error_class


# PostgreSQL, against the real server


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the real PostgreSQL errors need TEST_DATABASE_URL")
    return DatabaseURL.parse(url).sync_url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str, **settings: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, connect_timeout=5, options=" ".join(
        f"-c {name}={value}" for name, value in settings.items()))


@pytest.fixture
def probe_table(postgres_url: str) -> Iterator[str]:
    name = f"fault_probe_{uuid.uuid4().hex[:8]}"
    with connect(postgres_url) as admin:
        admin.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, v int NOT NULL)")
        admin.execute(f"INSERT INTO {name} VALUES (1, 0), (2, 0)")
    try:
        yield name
    finally:
        with connect(postgres_url) as admin:
            admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_p15_postgresql_unreachable_and_shut_down_are_unreachable(postgres_url: str) -> None:
    nowhere = make_url(postgres_url).set(port=free_port()).render_as_string(hide_password=False)
    refused = raised(lambda: psycopg.connect(nowhere, connect_timeout=5))
    assert isinstance(refused, psycopg.OperationalError) and refused.sqlstate is None
    assert kind(refused) is Fault.UNREACHABLE
    # The server ends the session (a shutdown, or an administrator): 57P01, through SQLAlchemy.
    engine = create_engine(DatabaseURL.parse(postgres_url).sync_url)
    try:
        def terminated() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

        error = raised(terminated)
    finally:
        engine.dispose()
    assert isinstance(error, sa_exc.OperationalError) and kind(error) is Fault.UNREACHABLE


def test_p15_postgresql_read_only_lock_timeout_serialization_and_deadlock(postgres_url: str, probe_table: str) -> None:
    with connect(postgres_url, default_transaction_read_only="on") as read_only:
        error = raised(lambda: read_only.execute(f"UPDATE {probe_table} SET v = v + 1"))
        assert isinstance(error, psycopg.errors.ReadOnlySqlTransaction) and kind(error) is Fault.READ_ONLY

    with connect(postgres_url) as holder, connect(postgres_url, lock_timeout="50ms") as waiter:
        holder.autocommit = False
        holder.execute(f"LOCK TABLE {probe_table} IN ACCESS EXCLUSIVE MODE")
        error = raised(lambda: waiter.execute(f"SELECT * FROM {probe_table}"))
        holder.rollback()
        assert isinstance(error, psycopg.errors.LockNotAvailable) and kind(error) is Fault.BUSY

    with connect(postgres_url) as first, connect(postgres_url) as second:
        first.autocommit = False
        first.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        first.execute(f"SELECT * FROM {probe_table}")
        second.execute(f"UPDATE {probe_table} SET v = v + 1 WHERE id = 1")
        error = raised(lambda: first.execute(f"UPDATE {probe_table} SET v = v + 1 WHERE id = 1"))
        first.rollback()
        assert isinstance(error, psycopg.errors.SerializationFailure) and kind(error) is Fault.BUSY

    assert kind(deadlock(postgres_url, probe_table)) is Fault.BUSY


def deadlock(url: str, table: str) -> BaseException:
    """Two transactions each wait for the other's row; the server breaks the cycle with 40P01 for one of
    them (whichever order the two waits begin in), and the other goes on."""
    errors: list[BaseException] = []
    with connect(url, deadlock_timeout="50ms") as first, connect(url, deadlock_timeout="50ms") as second:
        first.autocommit = second.autocommit = False
        first.execute(f"UPDATE {table} SET v = v + 1 WHERE id = 1")
        second.execute(f"UPDATE {table} SET v = v + 1 WHERE id = 2")

        def take(connection: psycopg.Connection, row: int) -> None:
            try:
                connection.execute(f"UPDATE {table} SET v = v + 1 WHERE id = {row}")
            except psycopg.Error as error:
                errors.append(error)
            connection.rollback()

        other = threading.Thread(target=take, args=(first, 2))
        other.start()
        take(second, 1)
        other.join(timeout=10)
        assert not other.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.DeadlockDetected), errors
    return errors[0]
