"""The access log: append-only, each row an HMAC over its content and the previous row's hash, so an
edited, inserted or deleted row breaks the chain. `verify` walks it in batches (constant memory),
checks that the database still refuses changes (the triggers), and, given a checkpoint kept outside
the database (`checkpoints.py`), that the rows it saw are all still there: a cut tail or a wiped
table shows only that way."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.database import Database
from ..storage.tables import AccessLogEntry
from ..storage.types import utc_now
from . import checkpoints
from .checkpoints import Checkpoint, CheckpointFile, CheckpointKey

logger = logging.getLogger("shop_privacy.audit")

GENESIS = "0" * 64
_LOCK_ID = 0x5350_414C  # "SPAL": appends to the chain take turns on PostgreSQL
_CURSOR = "access"
# The subject of a row that records a staff search which matched nobody: the search is processing of
# personal data too (it tells whether someone is a customer), but the model has no row without a
# subject, so the nil UUID (RFC 9562), which no customer has, stands for "nobody".
NO_SUBJECT = uuid.UUID(int=0)

# The append-only triggers as migration 0002 creates them, whitespace and case aside. Compared whole:
# a trigger kept by name but given another body (or a WHEN that never holds) refuses nothing.
_SQLITE_TRIGGERS = {
    "access_log_no_update": "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
                            "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
    "access_log_no_delete": "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
                            "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
}
_POSTGRES_TRIGGER = "access_log_append_only"
_POSTGRES_BODY = "BEGIN RAISE EXCEPTION 'access_log is append-only'; END"
# pg_trigger.tgtype bits: BEFORE 2, DELETE 8, UPDATE 16, TRUNCATE 32 (ROW 1 unset: per statement).
_POSTGRES_TYPE = 2 | 8 | 16 | 32


@dataclass(frozen=True)
class AccessRead:
    staff_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str
    categories: frozenset[str]
    fields: frozenset[str]
    request_id: str


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


@dataclass(frozen=True)
class CheckpointRun:
    verification: Verification
    written: Checkpoint | None  # None when the log did not verify: a cut log is not blessed
    path: Path


def _normalised(sql: str | None) -> str:
    return " ".join((sql or "").split()).lower()


class AccessLog:
    def __init__(self, db: Database, secret: str, max_page_size: int) -> None:
        self._db = db
        self._key = hashlib.sha256(f"access-log:{secret}".encode()).digest()
        self.checkpoint_key = CheckpointKey(secret)
        self._max_page_size = max_page_size

    def _hash(self, entry: AccessLogEntry) -> str:
        content = json.dumps([
            entry.previous_hash, entry.sequence, entry.recorded_at.astimezone(UTC).isoformat(),
            str(entry.staff_user_id), str(entry.subject_id), entry.purpose, entry.categories, entry.fields,
            entry.request_id,
        ], separators=(",", ":"))
        return hmac.new(self._key, content.encode(), hashlib.sha256).hexdigest()

    async def append(self, reads: Sequence[AccessRead]) -> None:
        """Append one row per read, in one transaction after the chain's current end."""
        if not reads:
            return
        async with self._db.transaction() as session:
            if not self._db.url.is_sqlite:
                await session.exec(text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))  # type: ignore[call-overload]
            last = (await session.exec(
                select(AccessLogEntry).order_by(col(AccessLogEntry.sequence).desc()).limit(1)
            )).first()
            sequence = last.sequence if last else 0
            previous = last.row_hash if last else GENESIS
            now = utc_now()
            for read in reads:
                sequence += 1
                entry = AccessLogEntry(
                    sequence=sequence, recorded_at=now, staff_user_id=read.staff_id, subject_id=read.subject_id,
                    purpose=read.purpose, categories=",".join(sorted(read.categories)),
                    fields=",".join(sorted(read.fields)), request_id=read.request_id, previous_hash=previous,
                    row_hash="",
                )
                entry.row_hash = previous = self._hash(entry)
                session.add(entry)
        logger.info("access logged rows=%d last_sequence=%d", len(reads), sequence)

    async def verify(self, batch_size: int = 1000, checkpoints: CheckpointFile | None = None) -> Verification:
        """Walks the chain from its first row; with `checkpoints`, also insists that the row the newest
        of them saw is still there, unchanged (a checkpoint not signed with our key is a problem too)."""
        result = Verification()
        checkpoint = result.checkpoint = checkpoints.newest if checkpoints else None
        for line in checkpoints.forged_lines if checkpoints else ():
            result.problems.append(f"line {line} of the checkpoint file is not signed with this shop's key: "
                                   "forged or altered")
        previous, expected = GENESIS, 1
        async with self._db.read() as session:
            result.problems.extend(await self._trigger_problems(session))
            while True:
                batch = (await session.exec(
                    select(AccessLogEntry).where(col(AccessLogEntry.sequence) >= expected)
                    .order_by(col(AccessLogEntry.sequence)).limit(batch_size)
                )).all()
                for entry in batch:
                    if entry.sequence != expected:
                        result.problems.append(f"rows {expected}–{entry.sequence - 1} are missing")
                        if checkpoint is not None and expected <= checkpoint.sequence < entry.sequence:
                            result.problems.append(f"row {checkpoint.sequence}, which the {checkpoint.describe()} "
                                                   "saw, is missing")
                    if entry.previous_hash != previous:
                        result.problems.append(f"row {entry.sequence} does not follow the row before it")
                    if not hmac.compare_digest(entry.row_hash, self._hash(entry)):
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
                f"the log ends at row {result.last_sequence} but the {checkpoint.describe()} saw it reach row "
                f"{checkpoint.sequence}: rows {result.last_sequence + 1}–{checkpoint.sequence} were cut")
        return result

    async def _trigger_problems(self, session: AsyncSession) -> list[str]:
        """The database must still refuse UPDATE and DELETE (and TRUNCATE) on the log: triggers dropped,
        rewritten or disabled leave the rows open to silent change."""
        if self._db.url.is_sqlite:
            found = dict((await session.exec(text(  # type: ignore[call-overload]
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'access_log'"
            ))).all())
            problems = []
            for name, statement in _SQLITE_TRIGGERS.items():
                if name not in found:
                    problems.append(f"the append-only trigger {name} is missing")
                elif _normalised(found[name]) != _normalised(statement):
                    problems.append(f"the append-only trigger {name} was altered")
            return problems
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT t.tgenabled, t.tgtype, t.tgqual IS NULL, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = to_regclass('access_log') AND t.tgname = :name AND NOT t.tgisinternal"
        ).bindparams(name=_POSTGRES_TRIGGER))).all()
        if not rows:
            return [f"the append-only trigger {_POSTGRES_TRIGGER} is missing"]
        enabled, kind, unconditional, body = rows[0]
        problems = []
        # 'O' fires in normal sessions, 'A' always; 'D' is disabled and 'R' fires only for replicas.
        if str(enabled) not in ("O", "A"):
            problems.append(f"the append-only trigger {_POSTGRES_TRIGGER} is disabled")
        if int(kind) & _POSTGRES_TYPE != _POSTGRES_TYPE or not unconditional or \
                _normalised(body) != _normalised(_POSTGRES_BODY):
            problems.append(f"the append-only trigger {_POSTGRES_TRIGGER} was altered")
        return problems

    async def checkpoint(self, path: Path, batch_size: int = 1000) -> CheckpointRun:
        """Verifies the log against the newest checkpoint in `path` (if there is one) and, if it is intact,
        appends a new one for its current end. For cron (`shop-privacy audit checkpoint`) and for the
        retention sweep to call after each run. Raises `CheckpointFileError` if the file is unusable."""
        held = await asyncio.to_thread(checkpoints.read, path, self.checkpoint_key, missing_ok=True)
        verification = await self.verify(batch_size, held)
        if not verification.ok:
            logger.warning("access log checkpoint refused problems=%d", len(verification.problems))
            return CheckpointRun(verification, None, held.path)
        written = self.checkpoint_key.sign(verification.last_sequence, verification.last_hash, utc_now())
        await asyncio.to_thread(checkpoints.append, held.path, written)
        logger.info("access log checkpoint sequence=%d", written.sequence)
        return CheckpointRun(verification, written, held.path)

    async def for_subject(self, session: AsyncSession, subject_id: uuid.UUID, *, first: int,
                          after: str | None) -> Page[AccessLogEntry]:
        first = check_page_size(first, self._max_page_size)
        query = select(AccessLogEntry).where(AccessLogEntry.subject_id == subject_id)
        if after is not None:
            (sequence,) = decode_cursor(_CURSOR, after, int)
            query = query.where(col(AccessLogEntry.sequence) < sequence)
        rows = list((await session.exec(query.order_by(col(AccessLogEntry.sequence).desc()).limit(first + 1))).all())
        return page_of(rows, first, after, lambda e: encode_cursor(_CURSOR, e.sequence))
