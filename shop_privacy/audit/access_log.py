"""The access log: append-only, each row an HMAC over its content and the previous row's hash, so an
edited, inserted or deleted row breaks the chain. `verify` walks it in batches (constant memory),
checks that the database still refuses changes (the triggers), and, given a checkpoint kept outside
the database (`checkpoints.py`), that the rows it saw are all still there: a cut tail or a wiped
table shows only that way. The log's own retention (three years) cuts it from the oldest end, recording
each cut in the same file, so that the log still verifies from the first row left."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.database import Database
from ..storage.tables import AccessLogEntry
from ..storage.types import utc_now
from . import checkpoints
from .chain import GENESIS, HashChain, Verification, sqlite_triggers
from .checkpoints import Checkpoint, CheckpointFile, CheckpointKey

logger = logging.getLogger("shop_privacy.audit")

_LOCK_ID = 0x5350_414C  # "SPAL": appends to the chain take turns on PostgreSQL
_CURSOR = "access"
_POSTGRES_TRIGGER = "access_log_append_only"
# The subject of a row that records a staff search which matched nobody: the search is processing of
# personal data too (it tells whether someone is a customer), but the model has no row without a
# subject, so the nil UUID (RFC 9562), which no customer has, stands for "nobody".
NO_SUBJECT = uuid.UUID(int=0)


@dataclass(frozen=True)
class AccessRead:
    staff_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str
    categories: frozenset[str]
    fields: frozenset[str]
    request_id: str


def entry_of(read: AccessRead, at: datetime) -> AccessLogEntry:
    """The row recording one read, before the chain gives it its place and hashes."""
    return AccessLogEntry(sequence=0, recorded_at=at, staff_user_id=read.staff_id, subject_id=read.subject_id,
                          purpose=read.purpose, categories=",".join(sorted(read.categories)),
                          fields=",".join(sorted(read.fields)), request_id=read.request_id, previous_hash="",
                          row_hash="")


@dataclass(frozen=True)
class CheckpointRun:
    verification: Verification
    written: Checkpoint | None  # None when the log did not verify: a cut log is not blessed
    path: Path
    cut: int = 0  # rows past the retention rule removed from the oldest end before the checkpoint


class AccessLog:
    def __init__(self, db: Database, secret: str, max_page_size: int) -> None:
        self._db = db
        self.chain = HashChain(db, AccessLogEntry, hashlib.sha256(f"access-log:{secret}".encode()).digest(),
                               _LOCK_ID, _content)
        self.checkpoint_key = CheckpointKey(secret)
        self._max_page_size = max_page_size

    async def append(self, reads: Sequence[AccessRead], *, at: datetime | None = None) -> None:
        """Append one row per read, in one transaction after the chain's current end; `at`: when they
        were read (now unless a test's clock says otherwise)."""
        if not reads:
            return
        now = at or utc_now()
        sequence = await self.chain.append_alone([entry_of(read, now) for read in reads])
        logger.info("access logged rows=%d last_sequence=%d", len(reads), sequence)

    async def verify(self, batch_size: int = 1000, checkpoints: CheckpointFile | None = None) -> Verification:
        """Walks the chain from its first row; with `checkpoints`, also insists that the row the newest
        of them saw is still there, unchanged (a checkpoint not signed with our key is a problem too)."""
        forged = [f"line {line} of the checkpoint file is not signed with this shop's key: forged or altered"
                  for line in (checkpoints.forged_lines if checkpoints else ())]
        # The retention's own cuts: the chain goes on from the row a cut removed last.
        result = await self.chain.verify(batch_size, checkpoints.newest if checkpoints else None,
                                         resume=checkpoints.cut_through if checkpoints else None)
        result.problems[:0] = forged
        return result

    async def checkpoint(self, path: Path, batch_size: int = 1000, *,
                         cut_before: datetime | None = None) -> CheckpointRun:
        """Verifies the log against the newest checkpoint in `path` (if there is one) and, if it is intact,
        appends a new one for its current end. For cron (`shop-privacy audit checkpoint`) and for the
        retention sweep to call after each run. Raises `CheckpointFileError` if the file is unusable.

        `cut_before` (the retention sweep): first remove the rows recorded before that moment, recording
        the cut in the file, so that the log still verifies from the first row left."""
        held = await asyncio.to_thread(checkpoints.read, path, self.checkpoint_key, missing_ok=True)
        verification = await self.verify(batch_size, held)
        if not verification.ok:
            logger.warning("access log checkpoint refused problems=%d", len(verification.problems))
            return CheckpointRun(verification, None, held.path)
        cut = 0 if cut_before is None else await self._cut(held.path, cut_before)
        written = self.checkpoint_key.sign(verification.last_sequence, verification.last_hash, utc_now())
        await asyncio.to_thread(checkpoints.append, held.path, written)
        logger.info("access log checkpoint sequence=%d cut=%d", written.sequence, cut)
        return CheckpointRun(verification, written, held.path, cut)

    @staticmethod
    def _due(before: datetime) -> Any:
        """Rows past the retention rule; never the newest row, which the next append chains from."""
        newest = select(func.max(AccessLogEntry.sequence)).scalar_subquery()
        return (col(AccessLogEntry.recorded_at) < before) & (col(AccessLogEntry.sequence) < newest)

    async def count_due(self, before: datetime) -> int:
        async with self._db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(AccessLogEntry)
                                            .where(self._due(before))) or 0)

    async def _cut(self, path: Path, before: datetime) -> int:
        """Removes the rows recorded before `before`, from the oldest end. The cut is on disk in the
        checkpoint file before a row goes, and the rows go in one statement: a crash leaves either the
        rows or the rows' absence vouched for, never a gap nothing explains."""
        async with self._db.read() as session:
            through = await session.scalar(select(func.max(AccessLogEntry.sequence)).where(self._due(before)))
            if through is None:
                return 0
            last_cut = (await session.exec(select(AccessLogEntry).where(AccessLogEntry.sequence == through))).one()
        cut = self.checkpoint_key.sign_cut(through, last_cut.row_hash, before, utc_now())
        await asyncio.to_thread(checkpoints.append, path, cut)
        gone = delete(AccessLogEntry).where(col(AccessLogEntry.sequence) <= through)
        async with self._db.transaction() as session:
            # The append-only trigger refuses every DELETE; the log's own retention lifts it for this one
            # statement, in this transaction, and puts it back exactly as it was.
            if self._db.url.is_sqlite:
                await session.exec(text("DROP TRIGGER access_log_no_delete"))  # type: ignore[call-overload]
                removed = (await session.exec(gone)).rowcount or 0  # type: ignore[call-overload]
                await session.exec(text(sqlite_triggers("access_log")["access_log_no_delete"]))  # type: ignore[call-overload]
            else:
                await self.chain.lock(session)
                await session.exec(text(f"ALTER TABLE access_log DISABLE TRIGGER {_POSTGRES_TRIGGER}"))  # type: ignore[call-overload]
                removed = (await session.exec(gone)).rowcount or 0  # type: ignore[call-overload]
                await session.exec(text(f"ALTER TABLE access_log ENABLE TRIGGER {_POSTGRES_TRIGGER}"))  # type: ignore[call-overload]
        logger.info("access log cut through=%d rows=%d", through, removed)
        return int(removed)

    async def for_subject(self, session: AsyncSession, subject_id: uuid.UUID, *, first: int,
                          after: str | None) -> Page[AccessLogEntry]:
        first = check_page_size(first, self._max_page_size)
        query = select(AccessLogEntry).where(AccessLogEntry.subject_id == subject_id)
        if after is not None:
            (sequence,) = decode_cursor(_CURSOR, after, int)
            query = query.where(col(AccessLogEntry.sequence) < sequence)
        rows = list((await session.exec(query.order_by(col(AccessLogEntry.sequence).desc()).limit(first + 1))).all())
        return page_of(rows, first, after, lambda e: encode_cursor(_CURSOR, e.sequence))


def _content(entry: AccessLogEntry) -> list[object]:
    """What a row's hash covers besides its place in the chain."""
    return [entry.recorded_at.astimezone(UTC).isoformat(), str(entry.staff_user_id), str(entry.subject_id),
            entry.purpose, entry.categories, entry.fields, entry.request_id]


__all__ = ["GENESIS", "NO_SUBJECT", "AccessLog", "AccessRead", "CheckpointRun", "Verification"]
