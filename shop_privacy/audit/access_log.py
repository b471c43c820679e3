"""The access log: append-only, each row an HMAC over its content and the previous row's hash, so an
edited, inserted or deleted row breaks the chain. `verify` walks it in batches (constant memory)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.database import Database
from ..storage.tables import AccessLogEntry
from ..storage.types import utc_now

logger = logging.getLogger("shop_privacy.audit")

GENESIS = "0" * 64
_LOCK_ID = 0x5350_414C  # "SPAL": appends to the chain take turns on PostgreSQL
_CURSOR = "access"


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

    @property
    def ok(self) -> bool:
        return not self.problems


class AccessLog:
    def __init__(self, db: Database, secret: str, max_page_size: int) -> None:
        self._db = db
        self._key = hashlib.sha256(f"access-log:{secret}".encode()).digest()
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

    async def verify(self, batch_size: int = 1000) -> Verification:
        result = Verification()
        previous, expected = GENESIS, 1
        async with self._db.reader() as session:
            while True:
                batch = (await session.exec(
                    select(AccessLogEntry).where(col(AccessLogEntry.sequence) >= expected)
                    .order_by(col(AccessLogEntry.sequence)).limit(batch_size)
                )).all()
                for entry in batch:
                    if entry.sequence != expected:
                        result.problems.append(f"rows {expected}–{entry.sequence - 1} are missing")
                    if entry.previous_hash != previous:
                        result.problems.append(f"row {entry.sequence} does not follow the row before it")
                    if not hmac.compare_digest(entry.row_hash, self._hash(entry)):
                        result.problems.append(f"row {entry.sequence} was changed after it was written")
                    previous, expected = entry.row_hash, entry.sequence + 1
                    result.rows += 1
                if len(batch) < batch_size:
                    break
        return result

    async def for_subject(self, session: AsyncSession, subject_id: uuid.UUID, *, first: int,
                          after: str | None) -> Page[AccessLogEntry]:
        first = check_page_size(first, self._max_page_size)
        query = select(AccessLogEntry).where(AccessLogEntry.subject_id == subject_id)
        if after is not None:
            (sequence,) = decode_cursor(_CURSOR, after, int)
            query = query.where(col(AccessLogEntry.sequence) < sequence)
        rows = list((await session.exec(query.order_by(col(AccessLogEntry.sequence).desc()).limit(first + 1))).all())
        return page_of(rows, first, after, lambda e: encode_cursor(_CURSOR, e.sequence))
