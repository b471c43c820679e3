"""Erasure (P13, P24): every declared value of the subject gets its declared strategy, set-based, in
the caller's transaction. What the law makes the shop keep (the accounting minimum of orders, the
access log, the record of the request itself) stays until its own retention ends; the report says
what was removed and what was kept, why, and until when."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, delete, func, or_, select, update
from sqlmodel import col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..orders.lifecycle import HOLDS_ERASURE
from ..privacy.declarations import Erasure, PersonalData
from ..privacy.purposes import PURPOSES, LegalBasis, Purpose
from ..privacy.retention import CALENDAR_YEAR, RETENTION_RULES, FiscalYear, RetentionRule, erase_on
from ..privacy.taxonomy import label as category_label
from ..storage.columns import APPEND_ONLY, ERASED_AT
from ..storage.tables import Order
from .export_model import LEGAL_BASES
from .subject_map import Subject, SubjectMap, SubjectTable

# Named conditions under which a declaration keeps a value (`kept_if`), as SQL over the row's table.
Condition = Callable[[Table], ColumnElement[bool]]
CONDITIONS: dict[str, Condition] = {
    "invoice_order": lambda table: table.c.payment_method == "INVOICE",
    # A message asking a recipient to erase or unsubscribe is how an erasure reaches them (P25).
    "erasure_notice": lambda table: table.c.kind.in_(["erase", "unsubscribe"]),
}

# Orders that hold an erasure until they are settled (the order lifecycle says which states those are).
HOLDING_STATUSES = {status.value: reason for status, reason in HOLDS_ERASURE.items()}


@dataclass
class CategoryOutcome:
    category: str
    removed: bool = False
    retained_because: set[str] = field(default_factory=set)
    # The same reasons for a person, per language: the purpose and its legal basis in words.
    explained: dict[str, set[str]] = field(default_factory=lambda: {"en": set(), "sv": set()})
    retained_until: date | None = None
    retained_open_ended: bool = False

    def retain(self, declaration: PersonalData) -> None:
        self.retained_because.add(legal_reason(declaration))
        for language, reasons in self.explained.items():
            reasons.add(legal_reason_for_people(declaration, language))

    def as_json(self) -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        label = {language: category_label(self.category, language) for language in ("en", "sv")}
        if self.removed:
            outcomes.append({"category": self.category, "label": label, "outcome": "removed"})
        if self.retained_because:
            outcomes.append({
                "category": self.category, "label": label, "outcome": "retained",
                "reasons": sorted(self.retained_because),
                "why": {language: sorted(reasons) for language, reasons in self.explained.items()},
                "until": self.retained_until.isoformat() if self.retained_until else None,
            })
        return outcomes


@dataclass
class ErasureReport:
    customer_id: uuid.UUID
    erased_at: datetime
    categories: dict[str, CategoryOutcome] = field(default_factory=dict)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def outcome(self, category: str) -> CategoryOutcome:
        return self.categories.setdefault(category, CategoryOutcome(category))

    def as_json(self) -> dict[str, Any]:
        return {
            "customerId": str(self.customer_id),
            "erasedAt": self.erased_at.isoformat(),
            "categories": [o for key in sorted(self.categories) for o in self.categories[key].as_json()],
            "tables": self.tables,
        }


def _binding_purposes(declaration: PersonalData) -> list[Purpose]:
    """The purposes a value is kept for: those that rest on a legal obligation (else all its purposes)."""
    purposes = [PURPOSES[p] for p in declaration.purposes if p in PURPOSES]
    return [p for p in purposes if p.legal_basis is LegalBasis.LEGAL_OBLIGATION] or purposes


def legal_reason(declaration: PersonalData) -> str:
    """Why a value is kept, as the report has always said it (English, the basis by its key)."""
    return "; ".join(f"{p.description_en} ({p.legal_basis})" for p in _binding_purposes(declaration))


def legal_reason_for_people(declaration: PersonalData, language: str) -> str:
    """Why a value is kept, in words a customer reads in `language` ("en" or "sv")."""
    return "; ".join(
        f"{getattr(p, f'description_{language}')} ({LEGAL_BASES[str(p.legal_basis)][language]})"
        if p.legal_basis else getattr(p, f"description_{language}")
        for p in _binding_purposes(declaration))


def _cutoff(rule: RetentionRule, today: date, fiscal_year: FiscalYear) -> tuple[str, datetime] | None:
    """(anchor column, moment): rows whose anchor is before it are past this rule's retention."""
    if rule.anchor == "end_of_fiscal_year":
        return "placed_at", fiscal_year.kept_until_cutoff(datetime.combine(today, datetime.min.time(), UTC),
                                                          rule.years)
    if rule.period is None:
        return None
    return rule.anchor, datetime.combine(today, datetime.min.time(), UTC) - rule.period


class Eraser:
    def __init__(self, subject_map: SubjectMap, conditions: Mapping[str, Condition] = CONDITIONS,
                 fiscal_year: FiscalYear = CALENDAR_YEAR) -> None:
        self._map = subject_map
        self._conditions = conditions
        self._fiscal_year = fiscal_year

    async def holds(self, session: AsyncSession, customer_id: uuid.UUID) -> list[str]:
        rows = (await session.exec(sqlmodel_select(Order.order_number, Order.status).where(
            col(Order.customer_id) == customer_id, col(Order.status).in_(HOLDING_STATUSES)
        ).order_by(col(Order.placed_at)))).all()
        return [f"Order {number} is {HOLDING_STATUSES[status]}" for number, status in rows]

    async def erase(self, session: AsyncSession, subject: Subject, *, today: date | None = None) -> ErasureReport:
        today = today or datetime.now(UTC).date()
        report = ErasureReport(subject.id, datetime.now(UTC))
        for entry in self._map.children_first():
            if entry.personal:
                await self._erase_table(session, entry, subject, today, report)
        return report

    async def _erase_table(self, session: AsyncSession, entry: SubjectTable, subject: Subject, today: date,
                           report: ErasureReport) -> None:
        table = entry.table
        where = self._map.where(entry, subject)
        if table.info.get(APPEND_ONLY):
            await self._keep_append_only(session, entry, where, report)
            return
        stamp = table.info.get(ERASED_AT)
        if stamp is not None:
            # The rows this erasure keeps count their retention from it (e.g. the proof of consent).
            await session.exec(update(table).where(where, table.c[stamp].is_(None))  # type: ignore[call-overload]
                               .values({stamp: report.erased_at}))
        kept = [(c, d) for c, d in entry.personal
                if d.erasure is Erasure.KEEP_FOR_LEGAL_REASON or (d.kept_if and d.kept_if in self._conditions)]
        deleted = 0
        # Rows past the retention of everything they keep go entirely; so do rows that keep nothing.
        for rule in {RETENTION_RULES[d.retention] for _, d in kept if d.retention in RETENTION_RULES}:
            cut = _cutoff(rule, today, self._fiscal_year)
            if cut is not None and cut[0] in table.c:
                deleted += await _rowcount(session, delete(table).where(where, table.c[cut[0]] < cut[1]))
        if not kept:
            deleted += await _rowcount(session, delete(table).where(where))
        elif all(d.erasure is Erasure.DELETE for _, d in entry.personal):
            # Whole rows go unless a condition keeps them.
            keep = or_(*(self._conditions[d.kept_if](table) for _, d in kept if d.kept_if))
            deleted += await _rowcount(session, delete(table).where(where, ~keep))
        remaining = int(await session.scalar(select(func.count()).select_from(table).where(where)) or 0)
        if not deleted and not remaining:
            return
        kept_names = {c.name for c, _ in kept}
        # Deleted rows lose everything; kept rows lose what they do not keep (and, where a condition
        # decides, what the rows it does not hold lose).
        removed = [d for c, d in entry.personal if deleted or c.name not in kept_names or d.kept_if]
        for declaration in removed:
            for category in declaration.categories:
                report.outcome(category).removed = True
        reductions = self._reductions(entry) if remaining else {}
        if remaining:
            await self._report_kept(session, entry, where, kept, report)
            if reductions:
                await session.exec(update(table).where(where).values(**reductions))  # type: ignore[call-overload]
        report.tables[table.name] = {"deleted": deleted, "reduced": remaining if reductions else 0,
                                     "kept": remaining}

    async def _keep_append_only(self, session: AsyncSession, entry: SubjectTable, where: ColumnElement[bool],
                                report: ErasureReport) -> None:
        remaining = int(await session.scalar(select(func.count()).select_from(entry.table).where(where)) or 0)
        if remaining:
            await self._report_kept(session, entry, where, list(entry.personal), report)
            report.tables[entry.table.name] = {"deleted": 0, "reduced": 0, "kept": remaining}

    def _reductions(self, entry: SubjectTable) -> dict[str, Any]:
        """SET clauses that reduce a kept row to what may be kept."""
        table = entry.table
        values: dict[str, Any] = {}
        for column, declaration in entry.personal:
            if declaration.erasure in {Erasure.KEEP_FOR_LEGAL_REASON, Erasure.DELETE}:
                continue  # kept as it is; or a whole row, deleted above unless its condition keeps it
            erased = "[erased]" if declaration.erasure is Erasure.PLACEHOLDER else None
            if declaration.kept_if and declaration.kept_if in self._conditions:
                values[column.name] = case((self._conditions[declaration.kept_if](table), column), else_=erased)
            else:
                values[column.name] = erased
        if values and entry.link is not None and entry.link.nullable:
            values[entry.link.name] = None  # reduced rows no longer lead to the person
        return values

    async def _report_kept(self, session: AsyncSession, entry: SubjectTable, where: ColumnElement[bool],
                           kept: list[tuple[Any, PersonalData]], report: ErasureReport) -> None:
        table = entry.table
        for _, declaration in kept:
            condition = where
            if declaration.erasure is not Erasure.KEEP_FOR_LEGAL_REASON and declaration.kept_if:
                condition = and_(where, self._conditions[declaration.kept_if](table))
            rule = RETENTION_RULES.get(declaration.retention)
            anchor = None
            if rule is not None:
                anchor = "placed_at" if rule.anchor == "end_of_fiscal_year" else rule.anchor
            if anchor is not None and anchor in table.c:
                latest = await session.scalar(select(func.max(table.c[anchor])).where(condition))
                if latest is None:
                    continue  # no row keeps it
                until = erase_on(rule, {anchor: _aware(latest)}, self._fiscal_year) if rule else None
            else:
                if not await session.scalar(select(func.count()).select_from(table).where(condition)):
                    continue
                until = None
            for category in declaration.categories:
                outcome = report.outcome(category)
                outcome.retain(declaration)
                if until is None:
                    outcome.retained_open_ended = True
                elif outcome.retained_until is None or until > outcome.retained_until:
                    outcome.retained_until = until


async def _rowcount(session: AsyncSession, statement: Any) -> int:
    result = await session.exec(statement)
    return int(result.rowcount or 0)


def _aware(moment: Any) -> Any:
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    if isinstance(moment, str):  # SQLite's max() over a text column
        parsed = datetime.fromisoformat(moment)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return moment

