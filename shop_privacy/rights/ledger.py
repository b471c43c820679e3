"""The erasure ledger (P24): a record of every completed erasure that outlives backups.

A backup taken before an erasure still holds the erased customer; restoring it would bring them back.
Each completed erasure therefore leaves an entry (the customer's id, a keyed hash of their normalised
e-mail address, when, through which request and channel) in the database, in the erasure's own
transaction, and, once that has committed, on a line of a file kept outside the database
(`erasure_ledger_file`), because a restored database's ledger is as old as the backup.
`shop-privacy rights reapply` reads that file and erases the subjects again (see `reapply.py`).

Each line of the file is signed with an HMAC under a key derived from the shop's secret key, so an
edited or forged line is refused; the e-mail hash is an HMAC under another key derived from it, so
the file names nobody to whoever holds it without the key. The file is appended to, never rewritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.database import Database
from ..storage.durable_append import append_lines
from ..storage.tables import ErasureLedgerEntry
from ..tokens import Signer
from ..validation import normalise_email
from .requests import Channel

logger = logging.getLogger("shop_privacy.rights.ledger")

FORMAT = "shop-privacy/erasure-ledger/1"
FILE_NAME = "erasure-ledger.jsonl"  # inside a directory named instead of a file
ENVIRONMENT_VARIABLE = "SHOP_PRIVACY_ERASURE_LEDGER_FILE"
_EMAIL_HASH_PURPOSE = "erasure-ledger-email"


class LedgerFileError(Exception):
    """The ledger file cannot be read or written."""


@dataclass(frozen=True)
class LedgerEntry:
    request_id: uuid.UUID
    subject_id: uuid.UUID
    email_hash: str
    erased_at: datetime
    channel: str

    @classmethod
    def of(cls, row: ErasureLedgerEntry) -> LedgerEntry:
        return cls(row.request_id, row.customer_id, row.email_hash, row.erased_at.astimezone(UTC), row.channel)

    def row(self) -> ErasureLedgerEntry:
        return ErasureLedgerEntry(request_id=self.request_id, customer_id=self.subject_id,
                                  email_hash=self.email_hash, erased_at=self.erased_at, channel=self.channel)


@dataclass(frozen=True)
class RefusedLine:
    line: int
    reason: str  # "bad signature" or "not a ledger entry"


@dataclass(frozen=True)
class LedgerFile:
    """What a ledger file holds: the entries signed with this shop's key, and the lines refused."""

    path: Path
    entries: tuple[LedgerEntry, ...]
    refused: tuple[RefusedLine, ...]


class LedgerKey:
    """Signs and checks ledger lines. Its own key, derived from the secret key like the others."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"erasure-ledger:{secret}".encode()).digest()

    def signature(self, entry: LedgerEntry) -> str:
        content = json.dumps([FORMAT, str(entry.request_id), str(entry.subject_id), entry.email_hash,
                              entry.erased_at.astimezone(UTC).isoformat(), entry.channel], separators=(",", ":"))
        return hmac.new(self._key, content.encode(), hashlib.sha256).hexdigest()

    def is_genuine(self, entry: LedgerEntry, signature: str) -> bool:
        return hmac.compare_digest(self.signature(entry), signature)


def resolve(path: Path) -> Path:
    """A directory stands for the ledger file inside it."""
    return path / FILE_NAME if path.is_dir() else path


def line_of(entry: LedgerEntry, key: LedgerKey) -> str:
    return json.dumps({
        "format": FORMAT, "requestId": str(entry.request_id), "subjectId": str(entry.subject_id),
        "emailHash": entry.email_hash, "erasedAt": entry.erased_at.astimezone(UTC).isoformat(),
        "channel": entry.channel, "signature": key.signature(entry),
    }, separators=(",", ":"))


def _parse(text: str) -> tuple[LedgerEntry, str] | None:
    """(entry, signature), or None for a line that is not a ledger entry's shape."""
    try:
        record = json.loads(text)
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        values = [record["requestId"], record["subjectId"], record["emailHash"], record["erasedAt"],
                  record["channel"], record["signature"]]
        if not all(isinstance(value, str) for value in values):
            return None
        erased_at = datetime.fromisoformat(record["erasedAt"])
        if erased_at.tzinfo is None or record["channel"] not in set(Channel):
            return None
        entry = LedgerEntry(uuid.UUID(record["requestId"]), uuid.UUID(record["subjectId"]), record["emailHash"],
                            erased_at.astimezone(UTC), record["channel"])
    except (ValueError, KeyError, TypeError):
        return None
    return entry, record["signature"]


def read(path: Path, key: LedgerKey) -> LedgerFile:
    """Every entry of the file that this shop's key signed; the other lines are refused, by number."""
    path = resolve(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LedgerFileError(f"cannot read {path}: no such file") from None
    except (OSError, UnicodeError) as error:
        raise LedgerFileError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    entries: list[LedgerEntry] = []
    refused: list[RefusedLine] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        parsed = _parse(text)
        if parsed is None:
            refused.append(RefusedLine(number, "not a ledger entry"))
        elif not key.is_genuine(*parsed):
            refused.append(RefusedLine(number, "bad signature"))
        else:
            entries.append(parsed[0])
    return LedgerFile(path, tuple(entries), tuple(refused))


def append(path: Path, entries: Sequence[LedgerEntry], key: LedgerKey) -> Path:
    """Adds the entries' lines in one write to a file opened for appending (two writers do not
    interleave), and waits until they are on disk: an entry is only worth what survives a crash."""
    path = resolve(path)
    text = "".join(line_of(entry, key) + "\n" for entry in entries)
    try:
        append_lines(path, text)
    except OSError as error:
        raise LedgerFileError(f"cannot write {path}: {error.strerror or error}") from None
    return path


class ErasureLedger:
    def __init__(self, db: Database, signer: Signer, secret: str, file: Path | None) -> None:
        self._db = db
        self._signer = signer
        self.key = LedgerKey(secret)
        self.file = file

    def email_hash(self, email: str) -> str:
        return self._signer.keyed_hash(_EMAIL_HASH_PURPOSE, normalise_email(email))

    def entry(self, request_id: uuid.UUID, subject_id: uuid.UUID, email: str, channel: str,
              erased_at: datetime) -> LedgerEntry:
        return LedgerEntry(request_id, subject_id, self.email_hash(email), erased_at.astimezone(UTC), channel)

    async def record(self, session: AsyncSession, entry: LedgerEntry) -> bool:
        """Adds the entry in the caller's transaction, unless its request has one already (a re-applied
        erasure, or a second run): True when it was added."""
        values = {"request_id": entry.request_id, "customer_id": entry.subject_id, "email_hash": entry.email_hash,
                  "erased_at": entry.erased_at, "channel": entry.channel}
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert(ErasureLedgerEntry) if dialect == "postgresql" else sqlite_insert(ErasureLedgerEntry)
        statement = insert.values(**values).on_conflict_do_nothing(index_elements=["request_id"])
        added = await session.exec(statement.returning(col(ErasureLedgerEntry.request_id)))  # type: ignore[call-overload]
        return added.first() is not None

    async def write_out(self, entries: Sequence[LedgerEntry]) -> None:
        """Appends committed entries to the ledger file, if one is configured. A failure does not undo
        the erasure (it is done); it is logged, and `rights ledger export` can write the entries again."""
        if self.file is None or not entries:
            return
        try:
            await asyncio.to_thread(append, self.file, entries, self.key)
        except LedgerFileError as error:
            logger.error("erasure ledger file not written request_ids=%s (%s): run `shop-privacy rights "
                         "ledger export` to write the entries again", ",".join(str(e.request_id) for e in entries),
                         error)

    async def since(self, moment: datetime | None) -> list[LedgerEntry]:
        query = select(ErasureLedgerEntry)
        if moment is not None:
            query = query.where(col(ErasureLedgerEntry.erased_at) >= moment)
        query = query.order_by(col(ErasureLedgerEntry.erased_at), col(ErasureLedgerEntry.request_id))
        async with self._db.read() as session:
            return [LedgerEntry.of(row) for row in (await session.exec(query)).all()]

    def lines(self, entries: Iterable[LedgerEntry]) -> list[str]:
        return [line_of(entry, self.key) for entry in entries]
