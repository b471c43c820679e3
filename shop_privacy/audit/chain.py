"""An append-only, tamper-evident table: the mechanism of the access log, for any table built like it
(a gapless `sequence`, `previous_hash`, `row_hash`; the breach register too).

Each row carries an HMAC over its content and the previous row's hash, so an edited, inserted or
deleted row breaks the chain; the database refuses UPDATE and DELETE (triggers the table's migration
creates, named after the table); `verify` walks the chain in batches (constant memory), checks that
the triggers are still the migration's, and, given a checkpoint kept outside the database, that the
rows it saw are all still there."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import func, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.database import Database
from ..storage.faults import Contention
from .checkpoints import Checkpoint, Cut

GENESIS = "0" * 64
_UNIQUE_VIOLATION = "23505"
# More appends going in first, one after another, than a shop has connections to append with.
APPEND_ATTEMPTS = 100
# pg_trigger.tgtype bits: BEFORE 2, DELETE 8, UPDATE 16, TRUNCATE 32 (ROW 1 unset: per statement).
_POSTGRES_TYPE = 2 | 8 | 16 | 32

Row = TypeVar("Row", bound=SQLModel)


@dataclass
class Verification:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    last_sequence: int = 0
    last_hash: str = GENESIS
    checkpoint: Checkpoint | None = None  # the one the chain was compared with

    @property
    def ok(self) -> bool:
        return not self.problems


def _normalised(sql: str | None) -> str:
    return " ".join((sql or "").split()).lower()


def sqlite_triggers(table: str) -> dict[str, str]:
    """The append-only triggers a chained table's migration creates on SQLite, by name."""
    return {f"{table}_no_{verb.lower()}": f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                                          f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")}


def postgres_trigger_body(table: str) -> str:
    return f"BEGIN RAISE EXCEPTION '{table} is append-only'; END"


class HashChain(Generic[Row]):
    """`content(row)`: the values the row's hash covers, besides its predecessor's hash and its sequence."""

    def __init__(self, db: Database, model: type[Row], key: bytes, lock_id: int,
                 content: Callable[[Row], list[Any]], noun: str = "log") -> None:
        self._db = db
        self._model: Any = model
        self.table: str = model.__tablename__  # type: ignore[assignment]
        self._key = key
        self._lock_id = lock_id
        self._content = content
        self._noun = noun
        table = self._model.__table__
        self._columns = tuple(table.columns)
        self._end = select(table.c.sequence, table.c.row_hash).order_by(table.c.sequence.desc()).limit(1)
        self._insert = insert(table)

    def hash_of(self, row: Row) -> str:
        values = [row.previous_hash, row.sequence, *self._content(row)]
        payload = json.dumps(values, separators=(",", ":"))
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    async def lock(self, session: AsyncSession) -> None:
        """Appends take turns until the caller's transaction ends (an advisory lock on PostgreSQL; SQLite
        has one writer). Taken again by `append`; take it first to read the end and then write after it."""
        if not self._db.url.is_sqlite:
            await session.exec(text(f"SELECT pg_advisory_xact_lock({self._lock_id})"))  # type: ignore[call-overload]

    async def append(self, session: AsyncSession, rows: Sequence[Row]) -> int:
        """In the caller's transaction, after the chain's current end; returns the last sequence."""
        await self.lock(session)
        # Core statements, not the ORM's unit of work: this runs once per staff request (the access log),
        # and the rows are never read back through the session.
        connection = await session.connection()
        values = self._chained(rows, (await connection.execute(self._end)).first())
        await connection.execute(self._insert, values)
        return int(values[-1]["sequence"])

    async def append_alone(self, rows: Sequence[Row], attempts: int = APPEND_ATTEMPTS) -> int:
        """Appends `rows` after the chain's current end, in a transaction of their own; returns the last
        sequence. On PostgreSQL without a transaction around them or a lock: the end is read, and the rows
        go in one INSERT, which commits alone. An append that took the same sequences first makes it fail
        on the unique sequence, and each such failure means another append went in, so reading the new
        end and trying again ends (`Contention`, a busy database, after `attempts`). Three round trips
        (with the pool's ping) instead of six; SQLite, with one writer at a time, appends in a transaction."""
        if self._db.url.is_sqlite:
            async with self._db.transaction() as session:
                return await self.append(session, rows)
        async with self._db.statements() as connection:
            for _ in range(attempts):
                values = self._chained(rows, (await connection.execute(self._end)).first())
                try:
                    await connection.execute(self._insert, values)
                except IntegrityError as error:
                    if getattr(error.orig, "sqlstate", None) != _UNIQUE_VIOLATION:
                        raise
                    continue
                return int(values[-1]["sequence"])
        raise Contention(f"{attempts} appends to {self.table} went in first, one after another")

    def _chained(self, rows: Sequence[Row], end: Any) -> list[dict[str, Any]]:
        """The rows' values, each after the one before it, the first after `end` (sequence, row_hash)."""
        sequence, previous = (end.sequence, end.row_hash) if end else (0, GENESIS)
        values = []
        for row in rows:
            sequence += 1
            row.sequence, row.previous_hash = sequence, previous  # type: ignore[attr-defined]
            row.row_hash = previous = self.hash_of(row)  # type: ignore[attr-defined]
            values.append({column.key: getattr(row, column.key) for column in self._columns})
        return values

    async def verify(self, batch_size: int = 1000, checkpoint: Checkpoint | None = None,
                     resume: Callable[[int], Cut | None] | None = None) -> Verification:
        """Walks the chain from its first row; with `checkpoint`, also insists that the row it saw is still
        there, unchanged. `resume(n)`: a signed record that rows up to `n` were cut on purpose (a retention
        rule), whose last hash the first row left must follow."""
        result = Verification(checkpoint=checkpoint)
        model = self._model
        previous, expected = GENESIS, 1
        async with self._db.read() as session:
            result.problems.extend(await self.trigger_problems(session))
            first = await session.scalar(select(func.min(model.sequence)))
            cut = resume(first - 1) if resume is not None and first and first > 1 else None
            if cut is not None:
                previous, expected = cut.row_hash, cut.through + 1
            while True:
                batch = (await session.exec(select(model).where(col(model.sequence) >= expected)
                                            .order_by(col(model.sequence)).limit(batch_size))).all()
                for entry in batch:
                    if entry.sequence != expected:
                        result.problems.append(f"rows {expected}–{entry.sequence - 1} are missing")
                        if checkpoint is not None and expected <= checkpoint.sequence < entry.sequence:
                            result.problems.append(f"row {checkpoint.sequence}, which the {checkpoint.describe()} "
                                                   "saw, is missing")
                    if entry.previous_hash != previous:
                        result.problems.append(f"row {entry.sequence} does not follow the row before it")
                    if not hmac.compare_digest(entry.row_hash, self.hash_of(entry)):
                        result.problems.append(f"row {entry.sequence} was changed after it was written")
                    if checkpoint is not None and entry.sequence == checkpoint.sequence and \
                            not hmac.compare_digest(entry.row_hash, checkpoint.row_hash):
                        result.problems.append(f"row {entry.sequence} is not the row the {checkpoint.describe()} saw")
                    previous, expected = entry.row_hash, entry.sequence + 1
                    result.rows += 1
                if len(batch) < batch_size:
                    break
        result.last_sequence, result.last_hash = expected - 1, previous
        if checkpoint is not None and checkpoint.sequence > result.last_sequence:
            result.problems.append(
                f"the {self._noun} ends at row {result.last_sequence} but the {checkpoint.describe()} saw it reach "
                f"row {checkpoint.sequence}: rows {result.last_sequence + 1}–{checkpoint.sequence} were cut")
        return result

    async def trigger_problems(self, session: AsyncSession) -> list[str]:
        """The database must still refuse UPDATE and DELETE (and TRUNCATE) on the table: triggers dropped,
        rewritten or disabled leave the rows open to silent change. Compared whole, whitespace and case
        aside: a trigger kept by name but given another body (or a WHEN that never holds) refuses nothing."""
        if self._db.url.is_sqlite:
            found = dict((await session.exec(text(  # type: ignore[call-overload]
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
            ).bindparams(table=self.table))).all())
            problems = []
            for name, statement in sqlite_triggers(self.table).items():
                if name not in found:
                    problems.append(f"the append-only trigger {name} is missing")
                elif _normalised(found[name]) != _normalised(statement):
                    problems.append(f"the append-only trigger {name} was altered")
            return problems
        name = f"{self.table}_append_only"
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT t.tgenabled, t.tgtype, t.tgqual IS NULL, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = to_regclass(:table) AND t.tgname = :name AND NOT t.tgisinternal"
        ).bindparams(table=self.table, name=name))).all()
        if not rows:
            return [f"the append-only trigger {name} is missing"]
        enabled, kind, unconditional, body = rows[0]
        problems = []
        # 'O' fires in normal sessions, 'A' always; 'D' is disabled and 'R' fires only for replicas.
        if str(enabled) not in ("O", "A"):
            problems.append(f"the append-only trigger {name} is disabled")
        if int(kind) & _POSTGRES_TYPE != _POSTGRES_TYPE or not unconditional or \
                _normalised(body) != _normalised(postgres_trigger_body(self.table)):
            problems.append(f"the append-only trigger {name} was altered")
        return problems
