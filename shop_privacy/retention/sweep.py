"""`shop-privacy retention run`: each rule a set-based step over batches of rows, every batch its own
short transaction, so memory stays flat and a second run (or one running at the same time, on
PostgreSQL, where batches skip rows another run has locked) finds nothing more to do.

The steps come from the retention rules declared on the tables (`steps.py`); a few periods are settings.
Two duties stay code: inactive accounts (warned, then erased under the customer's lock) and the access
log (cut from its oldest end, the cut recorded beside its checkpoints).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, MetaData, and_, delete, func, select, update
from sqlmodel import SQLModel, col
from sqlmodel import select as sqlmodel_select

from ..audit.access_log import AccessLog
from ..mail.queue import MailQueue
from ..mail.templates import compose
from ..privacy.retention import RETENTION_RULES, FiscalYear
from ..rights.erasure import HOLDING_STATUSES
from ..rights.requests import Channel, RequestKind, RequestStatus
from ..rights.service import ErasureOutcome, Rights
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import Customer, Order, SubjectRequest
from ..storage.types import utc_now
from .steps import Periods, Step, derived_steps

logger = logging.getLogger("shop_privacy.retention")

BATCH = 5000

__all__ = ["BATCH", "RetentionSweep", "Step", "SweepResult", "periods_from"]


def periods_from(settings: Settings) -> Periods:
    """The rules whose period is a setting: the shop may lengthen or shorten them."""
    day = timedelta(days=1)
    return Periods(
        overrides={
            "anonymous_cart": settings.retention_anonymous_cart_days * day,
            "order_ip_address": settings.retention_order_ip_days * day,
            "account_mail": settings.retention_sent_mail_days * day,
            "erasure_ledger": settings.backup_retention_days * day,
            "visitor_consent": timedelta(seconds=settings.visitor_cookie_max_age_seconds),
        },
        fiscal_year=FiscalYear(settings.fiscal_year_start_month),
        bookkeeping_years=settings.retention_bookkeeping_years,
    )


@dataclass
class SweepResult:
    dry_run: bool
    started_at: datetime
    steps: dict[str, int] = field(default_factory=dict)
    warned: int = 0
    erased: int = 0
    held: int = 0
    skipped: int = 0  # taken by a run at the same time, or already done
    spared: int = 0  # active again by the time their erasure came (e.g. logged in during the run)
    resumed: int = 0  # erasures held by an order, completed now the order is settled
    # The access log's checkpoint written after the run: its sequence, "refused" (the log did not
    # verify), or None when no checkpoint file is configured (or in a dry run).
    access_log_checkpoint: int | str | None = None
    # Access-log rows past their rule removed (or, in a dry run, due); None without a checkpoint file,
    # which the cut is recorded in: without it a cut could not be told from tampering, so none is made.
    access_log_cut: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "startedAt": self.started_at.isoformat(), "steps": self.steps,
                "inactiveAccounts": {"warned": self.warned, "erased": self.erased, "onHold": self.held,
                                     "skipped": self.skipped, "spared": self.spared},
                "heldErasures": {"resumed": self.resumed}, "accessLogCheckpoint": self.access_log_checkpoint,
                "accessLogCut": self.access_log_cut}


class RetentionSweep:
    def __init__(self, db: Database, settings: Settings, rights: Rights, mails: MailQueue,
                 access_log: AccessLog | None = None, plugin_steps: Sequence[Step] = (),
                 metadatas: Iterable[MetaData] = ()) -> None:
        """`metadatas`: the plugins' tables, swept by the rules declared on them like the package's."""
        self._db = db
        self._plugin_steps = tuple(plugin_steps)
        self._metadatas = (SQLModel.metadata, *metadatas)
        self._access_log = access_log
        self._settings = settings
        self._rights = rights
        self._mails = mails

    def steps(self) -> list[Step]:
        """One step per retention rule declared on a table (the package's and the plugins'), then the
        steps plugins still hand over as code (deprecated)."""
        return [*derived_steps(self._metadatas, periods_from(self._settings)), *self._plugin_steps]

    async def run(self, *, dry_run: bool = False, now: datetime | None = None,
                  progress: Callable[[str, int], None] | None = None) -> SweepResult:
        now = now or utc_now()
        result = SweepResult(dry_run, now)
        for step in self.steps():
            result.steps[step.name] = await (self._count(step, now) if dry_run else self._apply(step, now, progress))
        await self._held_erasures(dry_run, result)
        await self._inactive_accounts(now, dry_run, result)
        await self._access_log_retention(now, dry_run, result)
        logger.info("retention %s steps=%s warned=%d erased=%d held=%d skipped=%d spared=%d resumed=%d",
                    "dry run" if dry_run else "run", ",".join(f"{k}:{v}" for k, v in result.steps.items() if v),
                    result.warned, result.erased, result.held, result.skipped, result.spared, result.resumed)
        return result

    async def _count(self, step: Step, now: datetime) -> int:
        async with self._db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(step.table).where(step.where(now))) or 0)

    async def _apply(self, step: Step, now: datetime, progress: Callable[[str, int], None] | None) -> int:
        table = step.table
        key = list(table.primary_key.columns)[0]
        total = 0
        while True:
            batch = select(key).where(step.where(now)).limit(BATCH)  # any order: no sort over all due rows
            if not self._db.url.is_sqlite:
                batch = batch.with_for_update(skip_locked=True)  # a concurrent run takes other rows
            statement = (delete(table) if step.set_values is None else update(table).values(**step.set_values))
            async with self._db.transaction() as session:
                done = (await session.exec(statement.where(key.in_(batch.scalar_subquery())))).rowcount or 0  # type: ignore[call-overload]
            total += done
            if progress is not None and done:
                progress(step.name, done)
            if done < BATCH:
                return total

    async def _access_log_retention(self, now: datetime, dry_run: bool, result: SweepResult) -> None:
        """Every run cuts the access log's rows past their rule from its oldest end, and leaves a signed
        checkpoint of the log outside the database, so a later cut of its tail (or of rows past their
        retention) can still be told from an intact log, and the retention's own cuts from tampering."""
        path = self._settings.audit_checkpoint_file
        if self._access_log is None or path is None:
            return
        before = now - _period("access_log")
        if dry_run:
            result.access_log_cut = await self._access_log.count_due(before)
            return
        run = await self._access_log.checkpoint(path, cut_before=before)
        result.access_log_checkpoint = run.written.sequence if run.written else "refused"
        result.access_log_cut = run.cut

    def _inactivity(self, now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        """(due for the warning, due for erasure), as conditions over `customers`."""
        s = self._settings
        inactive_since = now - timedelta(days=s.retention_inactive_account_days)
        warn_before = inactive_since + timedelta(days=s.retention_inactivity_warning_days)
        last_activity = func.coalesce(col(Customer.last_login_at), col(Customer.created_at))
        warned_at = col(Customer.inactivity_warned_at)
        warn_due = and_(last_activity < warn_before, warned_at.is_(None))
        erase_due = and_(
            last_activity < inactive_since,
            warned_at < now - timedelta(days=s.retention_inactivity_warning_days),
            last_activity < warned_at,
        )
        return warn_due, erase_due

    def inactive_erasure_condition(self, now: datetime) -> ColumnElement[bool]:
        """When an account is due for erasure for inactivity: what the erasure re-checks under the lock."""
        return self._inactivity(now)[1]

    async def _inactive_accounts(self, now: datetime, dry_run: bool, result: SweepResult) -> None:
        """Accounts unused for the retention period get a warning; still unused after the warning
        period, they are erased like any erasure (held while an order is unsettled). Safe to run twice
        at once: a warning is claimed by the statement that records it, and each erasure re-checks
        its condition under the customer's lock."""
        warn_due, erase_due = self._inactivity(now)
        if dry_run:
            async with self._db.read() as session:
                result.warned = await _count_where(session, Customer, warn_due)
                result.erased = await _count_where(session, Customer, erase_due)
            return
        await self._warn(now, warn_due, result)
        async with self._db.read() as session:
            ids: list[uuid.UUID] = list((await session.exec(sqlmodel_select(Customer.id).where(erase_due))).all())
        for customer_id in ids:
            outcome = await self._rights.erase_if_still(customer_id, erase_due, Channel.RETENTION)
            if outcome is ErasureOutcome.ERASED:
                result.erased += 1
            elif outcome is ErasureOutcome.HELD:
                result.held += 1
            elif outcome is ErasureOutcome.SKIPPED:
                result.skipped += 1
            else:
                result.spared += 1

    async def _warn(self, now: datetime, warn_due: ColumnElement[bool], result: SweepResult) -> None:
        """Warn in batches. The UPDATE that records a warning is what claims it, so of two runs at once
        only one mails each customer; each mail is queued with its warning, in the same transaction."""
        while True:
            batch = sqlmodel_select(Customer.id).where(warn_due).limit(_WARN_BATCH)
            if not self._db.url.is_sqlite:
                batch = batch.with_for_update(skip_locked=True)
            claim = (update(Customer).where(col(Customer.id).in_(batch.scalar_subquery()), warn_due)
                     .values(inactivity_warned_at=now)
                     .returning(col(Customer.id), col(Customer.email), col(Customer.preferred_language)))
            async with self._db.transaction() as session:
                claimed = list((await session.exec(claim)).all())  # type: ignore[call-overload]
                for customer_id, email, language in claimed:
                    self._mails.enqueue(session, compose("inactivity_warning", to=email, language=language,
                                                         days=self._settings.retention_inactivity_warning_days),
                                        customer_id=customer_id)
            result.warned += len(claimed)
            if len(claimed) < _WARN_BATCH:
                return

    async def _held_erasures(self, dry_run: bool, result: SweepResult) -> None:
        """Erasures an unsettled order held: once it is paid and delivered, or cancelled, they complete
        (and the customer is mailed); the others stay held with their reason."""
        held = and_(col(SubjectRequest.kind) == RequestKind.ERASURE.value,
                    col(SubjectRequest.status) == RequestStatus.ON_HOLD.value)
        async with self._db.read() as session:
            if dry_run:
                settled = ~sqlmodel_select(Order.id).where(
                    col(Order.customer_id) == col(SubjectRequest.customer_id),
                    col(Order.status).in_(HOLDING_STATUSES)).exists()
                result.resumed = await _count_where(session, SubjectRequest, and_(held, settled))
                return
            ids = list((await session.exec(sqlmodel_select(SubjectRequest.id).where(held))).all())
        for request_id in ids:
            request = await self._rights.run(request_id)
            if request.status == RequestStatus.COMPLETED.value:
                result.resumed += 1


_WARN_BATCH = 500


def _period(rule: str) -> timedelta:
    period = RETENTION_RULES[rule].period
    assert period is not None
    return period


async def _count_where(session: Any, model: Any, condition: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(condition)) or 0)
