"""`shop-privacy rights reapply`: after a backup is restored, erase again everyone the erasure ledger
says was erased (P24, P13).

For each signed entry the subject is looked for by id, and, when no account has that id, by the keyed
hash of the e-mail address (an account whose normalised address hashes to the entry's). An account
found is erased through the same erasure as the first time (`Rights.erase_again`), so the accounting
minimum of its orders is the one the first erasure kept; the entry goes back into the database's
ledger, so the next backup carries it. An account created after the erasure is someone who
registered again with the address afterwards, not the person erased: it is kept. Running it twice
erases nothing more: the second run finds everyone gone.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from ..storage.database import Database
from ..storage.tables import Customer, ErasureLedgerEntry
from .ledger import ErasureLedger, LedgerEntry, LedgerFile, RefusedLine
from .service import ErasureOutcome, Rights

_HASH_BATCH = 5000


class EntryOutcome(enum.StrEnum):
    ERASED_AGAIN = "erased_again"
    WOULD_ERASE = "would_erase"  # a dry run
    ALREADY_GONE = "already_gone"
    NEWER_ACCOUNT_KEPT = "newer_account_kept"  # the address registered again after the erasure


@dataclass(frozen=True)
class EntryResult:
    request_id: uuid.UUID
    subject_id: uuid.UUID
    outcome: EntryOutcome
    account_id: uuid.UUID | None  # the account erased or kept (another id when found by address)
    recorded: bool  # the entry was missing from the database's ledger (and, unless a dry run, is there now)

    def as_json(self) -> dict[str, Any]:
        return {"requestId": str(self.request_id), "subjectId": str(self.subject_id), "outcome": self.outcome.value,
                "accountId": str(self.account_id) if self.account_id else None, "recorded": self.recorded}


@dataclass
class ReapplyReport:
    ledger: Path
    dry_run: bool
    read: int = 0
    refused: list[RefusedLine] = field(default_factory=list)
    entries: list[EntryResult] = field(default_factory=list)

    def count(self, outcome: EntryOutcome) -> int:
        return sum(1 for e in self.entries if e.outcome is outcome)

    @property
    def erased(self) -> int:
        return self.count(EntryOutcome.WOULD_ERASE if self.dry_run else EntryOutcome.ERASED_AGAIN)

    @property
    def recorded(self) -> int:
        return sum(1 for e in self.entries if e.recorded)

    @property
    def ok(self) -> bool:
        return not self.refused

    def as_json(self) -> dict[str, Any]:
        return {
            "ledger": str(self.ledger), "dryRun": self.dry_run, "entriesRead": self.read,
            "erasedAgain": self.erased, "alreadyGone": self.count(EntryOutcome.ALREADY_GONE),
            "newerAccountsKept": self.count(EntryOutcome.NEWER_ACCOUNT_KEPT),
            "recordedInDatabase": self.recorded,
            "refused": [{"line": r.line, "reason": r.reason} for r in self.refused],
            "badSignatures": sum(1 for r in self.refused if r.reason == "bad signature"),
            "entries": [e.as_json() for e in self.entries],
        }


class LedgerReapply:
    def __init__(self, db: Database, rights: Rights, ledger: ErasureLedger) -> None:
        self._db = db
        self._rights = rights
        self._ledger = ledger

    async def run(self, held: LedgerFile, *, dry_run: bool = False) -> ReapplyReport:
        report = ReapplyReport(held.path, dry_run, read=len(held.entries), refused=list(held.refused))
        unique = {entry.request_id: entry for entry in held.entries}  # a file may repeat an entry
        by_hash: dict[str, list[tuple[uuid.UUID, datetime]]] | None = None
        for entry in sorted(unique.values(), key=lambda e: (e.erased_at, e.request_id)):
            recorded = not await self._known(entry.request_id)
            accounts = await self._account(entry.subject_id)
            if not accounts:
                if by_hash is None:
                    by_hash = await self._accounts_by_email_hash()
                accounts = by_hash.get(entry.email_hash, [])
            outcome, account_id = EntryOutcome.ALREADY_GONE, None
            for candidate, created_at in accounts:
                account_id = candidate
                if created_at > entry.erased_at:
                    outcome = EntryOutcome.NEWER_ACCOUNT_KEPT
                elif dry_run:
                    outcome = EntryOutcome.WOULD_ERASE
                else:
                    outcome = _OUTCOMES[await self._rights.erase_again(candidate, entry)]
            if recorded and not dry_run:
                await self._record(entry)
            report.entries.append(EntryResult(entry.request_id, entry.subject_id, outcome, account_id, recorded))
        return report

    async def _known(self, request_id: uuid.UUID) -> bool:
        async with self._db.read() as session:
            return await session.get(ErasureLedgerEntry, request_id) is not None

    async def _record(self, entry: LedgerEntry) -> None:
        async with self._db.transaction() as session:
            await self._ledger.record(session, entry)

    async def _account(self, customer_id: uuid.UUID) -> list[tuple[uuid.UUID, datetime]]:
        async with self._db.read() as session:
            row = (await session.exec(select(Customer.id, Customer.created_at)
                                      .where(col(Customer.id) == customer_id))).first()
        return [(row[0], row[1])] if row is not None else []

    async def _accounts_by_email_hash(self) -> dict[str, list[tuple[uuid.UUID, datetime]]]:
        """Every account by the keyed hash of its address: the hash cannot be computed in SQL (the key
        stays in the application), so each address is hashed here, once per run, in batches."""
        found: dict[str, list[tuple[uuid.UUID, datetime]]] = {}
        after: uuid.UUID | None = None
        while True:
            query = select(Customer.id, Customer.email, Customer.created_at).order_by(col(Customer.id))
            if after is not None:
                query = query.where(col(Customer.id) > after)
            async with self._db.read() as session:
                rows = (await session.exec(query.limit(_HASH_BATCH))).all()
            for customer_id, email, created_at in rows:
                found.setdefault(self._ledger.email_hash(email), []).append((customer_id, created_at))
            if len(rows) < _HASH_BATCH:
                return found
            after = rows[-1][0]


_OUTCOMES = {
    ErasureOutcome.ERASED: EntryOutcome.ERASED_AGAIN,
    ErasureOutcome.SKIPPED: EntryOutcome.ALREADY_GONE,  # erased meanwhile
    ErasureOutcome.NOT_DUE: EntryOutcome.NEWER_ACCOUNT_KEPT,
}  # never HELD: a re-applied erasure does not wait for orders
