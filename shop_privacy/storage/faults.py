"""Which infrastructure fault a database error is, if any: unreachable, busy, disk full, read-only.

A leaf: it knows the drivers' error codes (psycopg's SQLSTATE, sqlite3's result codes and messages) and
nothing above storage. The GraphQL layer turns a fault into SERVICE_UNAVAILABLE with `reason`, the HTTP
layer into a 503 with Retry-After, and the log into one line an operator can act on.

Nothing here reads an exception's message into the result: SQLAlchemy's messages quote the statement's
parameters (personal data). Only codes and fixed driver phrases are looked at, and only codes are kept.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import exc as sa_exc

logger = logging.getLogger("shop_privacy.faults")


class Fault(Enum):
    """Each kind, with the stable `reason` clients see, what operators read, and when to retry."""

    UNREACHABLE = ("database_unreachable", "database unreachable", 5)
    BUSY = ("database_busy", "database busy (locked or out of connections)", 2)
    DISK_FULL = ("database_disk_full", "database disk full", 30)
    READ_ONLY = ("database_read_only", "database read-only", 30)
    IO_ERROR = ("database_io_error", "database storage I/O error", 30)

    def __init__(self, reason: str, description: str, retry_after_seconds: int) -> None:
        self.reason = reason
        self.description = description
        self.retry_after_seconds = retry_after_seconds


REASONS: frozenset[str] = frozenset(kind.reason for kind in Fault)


class Contention(RuntimeError):
    """A write that tries again when another goes in first, and kept losing up to its bound: the database
    is busy, as with a lock wait that timed out."""


@dataclass(frozen=True)
class DatabaseFault:
    kind: Fault
    # The driver's code (an SQLSTATE, an SQLite result name, or the exception type): safe to log.
    code: str

    @property
    def reason(self) -> str:
        return self.kind.reason

    @property
    def description(self) -> str:
        return self.kind.description

    @property
    def retry_after_seconds(self) -> int:
        return self.kind.retry_after_seconds


# SQLSTATE (PostgreSQL) → fault. Classes first, then the exact codes that override them.
_SQLSTATE_CLASSES = {
    "08": Fault.UNREACHABLE,  # connection exception
    "53": Fault.BUSY,  # insufficient resources: too many connections, out of memory (53100 below)
    "58": Fault.IO_ERROR,  # system error: I/O error, undefined file
}
_SQLSTATES = {
    "57P01": Fault.UNREACHABLE,  # admin_shutdown
    "57P02": Fault.UNREACHABLE,  # crash_shutdown
    "57P03": Fault.UNREACHABLE,  # cannot_connect_now (starting up, shutting down, in recovery)
    "57P05": Fault.UNREACHABLE,  # idle_session_timeout
    "57014": Fault.BUSY,  # query_canceled: statement_timeout
    "40001": Fault.BUSY,  # serialization_failure
    "40P01": Fault.BUSY,  # deadlock_detected
    "55P03": Fault.BUSY,  # lock_not_available: lock_timeout
    "53100": Fault.DISK_FULL,
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction (also a hot standby)
}

# SQLite primary result codes (the low byte of the extended code) → fault.
_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY: Fault.BUSY,
    sqlite3.SQLITE_LOCKED: Fault.BUSY,
    sqlite3.SQLITE_PROTOCOL: Fault.BUSY,
    sqlite3.SQLITE_FULL: Fault.DISK_FULL,
    sqlite3.SQLITE_READONLY: Fault.READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: Fault.UNREACHABLE,
    sqlite3.SQLITE_IOERR: Fault.IO_ERROR,
}
# When an error carries no code (re-raised by a wrapper from its message alone): SQLite's own phrases.
_SQLITE_PHRASES = (
    ("database is locked", Fault.BUSY, "SQLITE_BUSY"),
    ("database table is locked", Fault.BUSY, "SQLITE_LOCKED"),
    ("database or disk is full", Fault.DISK_FULL, "SQLITE_FULL"),
    ("attempt to write a readonly database", Fault.READ_ONLY, "SQLITE_READONLY"),
    ("unable to open database file", Fault.UNREACHABLE, "SQLITE_CANTOPEN"),
    ("disk i/o error", Fault.IO_ERROR, "SQLITE_IOERR"),
)
_MAX_CHAIN = 16


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (`orig`, `__cause__`) and the members of exception groups."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for attribute in ("orig", "__cause__"):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                pending.append(inner)


def _psycopg(error: BaseException) -> DatabaseFault | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency, but only PostgreSQL needs it
        return None
    if not isinstance(error, psycopg.Error):
        return None
    sqlstate: str | None = error.sqlstate
    if sqlstate is None:
        # Raised by the client, not the server: the connection failed or was lost.
        if isinstance(error, psycopg.OperationalError):
            return DatabaseFault(Fault.UNREACHABLE, type(error).__name__)
        return None
    kind = _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
    return DatabaseFault(kind, f"SQLSTATE {sqlstate}") if kind else None


def _sqlite(error: BaseException) -> DatabaseFault | None:
    if not isinstance(error, sqlite3.Error):
        return None
    code: int | None = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        kind = _SQLITE_CODES.get(code & 0xFF)
        name = getattr(error, "sqlite_errorname", None) or f"SQLITE {code}"
        return DatabaseFault(kind, name) if kind else None
    message = str(error.args[0]).lower() if error.args else ""
    for phrase, kind, name in _SQLITE_PHRASES:
        if message.startswith(phrase):
            return DatabaseFault(kind, name)
    if isinstance(error, sqlite3.OperationalError):
        # SQLite's own errors carry their code; one without was raised by the layer that holds the
        # connection (aiosqlite's "no active connection"): as psycopg's client-side errors, unreachable.
        return DatabaseFault(Fault.UNREACHABLE, type(error).__name__)
    return None


def _one(error: BaseException) -> DatabaseFault | None:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DatabaseFault(Fault.BUSY, "pool timeout")
    if isinstance(error, Contention):
        return DatabaseFault(Fault.BUSY, "contention")
    found = _psycopg(error) or _sqlite(error)
    if found is not None:
        return found
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        # The dialect recognised a lost connection that no code above names.
        return DatabaseFault(Fault.UNREACHABLE, type(error.orig).__name__)
    return None


def classify(error: BaseException) -> DatabaseFault | None:
    """The infrastructure fault behind `error`, or None for anything else (a bug, a constraint)."""
    for link in _chain(error):
        fault = _one(link)
        if fault is not None:
            return fault
    return None


_LOGGED = "shop_privacy_database_fault_logged"


def log_fault(fault: DatabaseFault, request_id: str | None,
              request_state: MutableMapping[str, Any] | None = None) -> None:
    """One line per request (`request_state` remembers it was said): the kind, the driver's code, the
    request id; never the exception's text, which may quote the statement's parameters."""
    if request_state is not None:
        if request_state.get(_LOGGED):
            return
        request_state[_LOGGED] = True
    logger.error("database fault: %s (reason=%s code=%s request_id=%s)", fault.description, fault.reason,
                 fault.code, request_id)
