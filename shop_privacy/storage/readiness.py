"""Readiness: can this instance serve? The database answers, accepts a write, and its schema is at the
migration head, and so is each plugin's (its own version table). Bounded in time, so a probe never hangs
on a database that does not answer.

Liveness (`/health`) never comes here: a database outage must not make an orchestrator restart
processes that will recover by themselves once the database is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from .database import Database
from .faults import classify
from .migrate import PluginSchema, code_heads

logger = logging.getLogger("shop_privacy.readiness")

READY_TIMEOUT_SECONDS = 3.0
SCHEMA_NOT_CURRENT = "schema_not_current"
TIMED_OUT = "database_timeout"
UNEXPECTED = "database_error"
_RETRY_AFTER_SECONDS = 5
# A value no revision has (revisions are identifiers); it never outlives the probe's transaction.
_PROBE_VALUE = "~readiness-probe"
_TO_PROBE = text("UPDATE alembic_version SET version_num = :probe WHERE version_num = :head")
_BACK = text("UPDATE alembic_version SET version_num = :head WHERE version_num = :probe")


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None = None
    retry_after_seconds: int = _RETRY_AFTER_SECONDS


# The package's schema: its version table, and its scripts (no plugin folder).
_PACKAGE = ("alembic_version", None)


def _database_heads(connection: Any, version_table: str) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection, opts={"version_table": version_table})
                     .get_current_heads())


async def _probe(db: Database, plugins: Sequence[PluginSchema]) -> Readiness:
    schemas = [_PACKAGE, *((plugin.version_table, plugin.migrations) for plugin in plugins
                           if plugin.migrations is not None)]
    needed = [await anyio.to_thread.run_sync(code_heads, migrations) for _, migrations in schemas]
    heads = needed[0]
    # The app's own engine and pool: what the requests would get is what is probed.
    async with db.transaction() as session:
        connection = await session.connection()
        for (version_table, _), wanted in zip(schemas, needed, strict=True):
            if await connection.run_sync(_database_heads, version_table) != wanted:
                return Readiness(False, SCHEMA_NOT_CURRENT)
        # A write that really changes a page: SQLite skips writing a row updated to the value it has,
        # so `SET version_num = version_num` would not touch the WAL and a full disk would not show.
        # Set to a probe value and back: the committed row is as before, but the commit had to write.
        for head in sorted(heads):
            for statement in (_TO_PROBE, _BACK):
                await connection.execute(statement, {"probe": _PROBE_VALUE, "head": head})
    return Readiness(True)


async def check_readiness(db: Database, plugins: Sequence[PluginSchema] = (), *,
                          timeout: float = READY_TIMEOUT_SECONDS) -> Readiness:
    try:
        async with asyncio.timeout(timeout):
            return await _probe(db, plugins)
    except TimeoutError:
        return Readiness(False, TIMED_OUT)
    except Exception as error:  # noqa: BLE001 - a probe answers "not ready", it does not fail
        fault = classify(error)
        if fault is not None:
            return Readiness(False, fault.reason, fault.retry_after_seconds)
        logger.error("readiness probe failed unexpectedly error=%s", type(error).__name__)
        return Readiness(False, UNEXPECTED)
