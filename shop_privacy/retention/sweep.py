"""`shop-privacy retention run`: each rule a set-based step over batches of rows, every batch its own
short transaction, so memory stays flat and a second run (or one running at the same time, on
PostgreSQL, where batches skip rows another run has locked) finds nothing more to do.

The periods are settings; the rules and what they apply to come from the declarations' retention rules.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, update
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from ..mail.mailer import Mailer
from ..mail.templates import compose
from ..privacy.retention import RETENTION_RULES
from ..rights.requests import Channel, RequestKind
from ..rights.service import Rights
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import (
    AuthSession,
    Cart,
    Consent,
    Customer,
    Disclosure,
    LoginThrottle,
    Order,
    OutboxMessage,
    PasswordResetToken,
    PendingRegistration,
    Rectification,
    StaffSession,
    SubjectRequest,
)
from ..storage.types import utc_now

logger = logging.getLogger("shop_privacy.retention")

BATCH = 5000


@dataclass(frozen=True)
class Step:
    name: str
    rule: str  # the retention rule it applies
    table: Table
    where: Callable[[datetime], ColumnElement[bool]]
    set_values: dict[str, Any] | None = None  # None: delete the rows; else reduce them


@dataclass
class SweepResult:
    dry_run: bool
    started_at: datetime
    steps: dict[str, int] = field(default_factory=dict)
    warned: int = 0
    erased: int = 0
    held: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "startedAt": self.started_at.isoformat(), "steps": self.steps,
                "inactiveAccounts": {"warned": self.warned, "erased": self.erased, "onHold": self.held}}


def _t(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


class RetentionSweep:
    def __init__(self, db: Database, settings: Settings, rights: Rights, mailer: Mailer) -> None:
        self._db = db
        self._settings = settings
        self._rights = rights
        self._mailer = mailer

    def steps(self) -> list[Step]:
        s = self._settings
        day = timedelta(days=1)

        def rule_period(key: str) -> timedelta:
            period = RETENTION_RULES[key].period
            assert period is not None
            return period

        def bookkeeping_cutoff(now: datetime) -> datetime:
            # Seven years after the end of the fiscal (calendar) year the order was placed in.
            return datetime(now.year - s.retention_bookkeeping_years, 1, 1, tzinfo=UTC)

        orders, carts = _t(Order), _t(Cart)
        visitor_cookie_life = timedelta(seconds=s.visitor_cookie_max_age_seconds)
        return [
            # What the accounts no longer need: orders whose customer is gone, past the Bookkeeping Act.
            Step("accounting_minimum", "bookkeeping", orders,
                 lambda now: and_(orders.c.customer_id.is_(None), orders.c.placed_at < bookkeeping_cutoff(now))),
            Step("anonymous_carts", "anonymous_cart", carts,
                 lambda now: and_(carts.c.customer_id.is_(None),
                                  carts.c.updated_at < now - s.retention_anonymous_cart_days * day)),
            Step("order_ip_addresses", "order_ip_address", orders,
                 lambda now: and_(orders.c.ip_address.is_not(None),
                                  orders.c.placed_at < now - s.retention_order_ip_days * day),
                 set_values={"ip_address": None}),
            Step("sessions", "session", _t(AuthSession),
                 lambda now: _t(AuthSession).c.expires_at < now - rule_period("session")),
            Step("staff_sessions", "session", _t(StaffSession),
                 lambda now: _t(StaffSession).c.expires_at < now - rule_period("session")),
            Step("password_reset_links", "password_reset", _t(PasswordResetToken),
                 lambda now: _t(PasswordResetToken).c.created_at < now - rule_period("password_reset")),
            Step("unconfirmed_registrations", "pending_registration", _t(PendingRegistration),
                 lambda now: _t(PendingRegistration).c.expires_at < now),
            Step("failed_login_counters", "login_throttle", _t(LoginThrottle),
                 lambda now: and_(_t(LoginThrottle).c.window_started_at < now - rule_period("login_throttle"),
                                  or_(_t(LoginThrottle).c.locked_until.is_(None),
                                      _t(LoginThrottle).c.locked_until < now))),
            Step("visitor_consents", "consent_record", _t(Consent),
                 lambda now: and_(_t(Consent).c.customer_id.is_(None),
                                  _t(Consent).c.recorded_at < now - visitor_cookie_life)),
            Step("delivered_messages", "outbox", _t(OutboxMessage),
                 lambda now: and_(_t(OutboxMessage).c.status == "delivered",
                                  _t(OutboxMessage).c.created_at < now - rule_period("outbox"))),
            Step("rectification_history", "rectification", _t(Rectification),
                 lambda now: _t(Rectification).c.changed_at < now - rule_period("rectification")),
            Step("handled_requests", "rights_request", _t(SubjectRequest),
                 lambda now: and_(_t(SubjectRequest).c.status.in_(["completed", "cancelled"]),
                                  _t(SubjectRequest).c.received_at < now - rule_period("rights_request"))),
            Step("disclosure_log", "disclosure_log", _t(Disclosure),
                 lambda now: _t(Disclosure).c.disclosed_at < now - rule_period("disclosure_log")),
        ]

    async def run(self, *, dry_run: bool = False, now: datetime | None = None,
                  progress: Callable[[str, int], None] | None = None) -> SweepResult:
        now = now or utc_now()
        result = SweepResult(dry_run, now)
        for step in self.steps():
            result.steps[step.name] = await (self._count(step, now) if dry_run else self._apply(step, now, progress))
        await self._inactive_accounts(now, dry_run, result)
        logger.info("retention %s steps=%s warned=%d erased=%d", "dry run" if dry_run else "run",
                    ",".join(f"{k}:{v}" for k, v in result.steps.items() if v), result.warned, result.erased)
        return result

    async def _count(self, step: Step, now: datetime) -> int:
        async with self._db.reader() as session:
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

    async def _inactive_accounts(self, now: datetime, dry_run: bool, result: SweepResult) -> None:
        """Accounts unused for the retention period get a warning; still unused after the warning
        period, they are erased like any erasure (held while an order is unsettled)."""
        s = self._settings
        inactive_since = now - timedelta(days=s.retention_inactive_account_days)
        warn_before = inactive_since + timedelta(days=s.retention_inactivity_warning_days)
        last_activity = func.coalesce(col(Customer.last_login_at), col(Customer.created_at))
        to_warn = sqlmodel_select(Customer).where(last_activity < warn_before,
                                                  col(Customer.inactivity_warned_at).is_(None))
        to_erase = sqlmodel_select(Customer.id).where(
            last_activity < inactive_since,
            col(Customer.inactivity_warned_at) < now - timedelta(days=s.retention_inactivity_warning_days),
            last_activity < col(Customer.inactivity_warned_at),
        )
        if dry_run:
            async with self._db.reader() as session:
                result.warned = int(await session.scalar(select(func.count()).select_from(to_warn.subquery())) or 0)
                result.erased = int(await session.scalar(select(func.count()).select_from(to_erase.subquery())) or 0)
            return
        while True:  # warn in batches; each mail goes once its warning is recorded
            async with self._db.transaction() as session:
                batch = list((await session.exec(to_warn.limit(500))).all())
                for customer in batch:
                    customer.inactivity_warned_at = now
                    session.add(customer)
            for customer in batch:
                self._mailer.send(compose("inactivity_warning", to=customer.email,
                                          language=customer.preferred_language,
                                          days=s.retention_inactivity_warning_days))
            result.warned += len(batch)
            if len(batch) < 500:
                break
        async with self._db.reader() as session:
            ids: list[uuid.UUID] = list((await session.exec(to_erase)).all())
        for customer_id in ids:
            async with self._db.transaction() as session:
                request = self._rights.queue.open(session, customer_id, RequestKind.ERASURE, Channel.RETENTION)
            done = await self._rights.run(request.id)
            if done.status == "completed":
                result.erased += 1
            else:
                result.held += 1
