"""The sweep's steps, derived from the retention rules declared on the tables (`swept(...)` in
`shop_privacy/storage/tables/`, and the same on a plugin's tables): each declared sweep becomes one
set-based condition over its table, the period coming from its rule (or the setting that overrides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, MetaData, Table, and_, func, or_

from ..privacy.retention import (
    RETENTION_RULES,
    Criterion,
    Elapsed,
    FiscalYear,
    IsNull,
    NotNull,
    OneOf,
    RetentionRule,
    Sweep,
)
from ..storage.sweeps import declared_sweeps, reduced_columns


@dataclass(frozen=True)
class Step:
    name: str
    rule: str  # the retention rule it applies
    table: Table
    where: Callable[[datetime], ColumnElement[bool]]
    set_values: dict[str, Any] | None = None  # None: delete the rows; else reduce them


@dataclass(frozen=True)
class Periods:
    """What the settings say about the rules: periods that replace a rule's own, the shop's fiscal year
    and how many years after its end the bookkeeping rules keep a row."""

    overrides: Mapping[str, timedelta]
    fiscal_year: FiscalYear
    bookkeeping_years: int

    def cutoff(self, rule: RetentionRule) -> Callable[[datetime], datetime]:
        """Rows whose clock is before `cutoff(now)` are past the rule."""
        if rule.anchor == "end_of_fiscal_year":
            years = self.bookkeeping_years if rule.key == "bookkeeping" else rule.years
            return lambda now: self.fiscal_year.kept_until_cutoff(now, years)
        period = self.overrides.get(rule.key, rule.period)
        if period is None:
            raise ValueError(f"retention rule {rule.key!r} has no period for the sweep to apply: it lasts as long "
                             "as something else does, so erasure ends it (or a setting gives its period)")
        return lambda now: now - period


def derived_steps(metadatas: Iterable[MetaData], periods: Periods) -> list[Step]:
    return [_step(table, declared, periods) for metadata in metadatas for table, declared in declared_sweeps(metadata)]


def _step(table: Table, declared: Sweep, periods: Periods) -> Step:
    rule = RETENTION_RULES[declared.rule]
    cutoff = periods.cutoff(rule)
    clocks = [table.c[name] for name in declared.clock]
    clock = clocks[0] if len(clocks) == 1 else func.coalesce(*clocks)
    set_values = None
    pending: list[ColumnElement[bool]] = []
    if declared.reduce:
        set_values = reduced_columns(table, declared.rule)
        # Only rows that still hold something to clear: a second run finds nothing.
        pending = [or_(*(table.c[name].is_not(None) for name in set_values))]

    def where(now: datetime) -> ColumnElement[bool]:
        return and_(*(_criterion(table, c, now) for c in declared.only), *pending, clock < cutoff(now))

    return Step(declared.name, declared.rule, table, where, set_values)


def _criterion(table: Table, criterion: Criterion, now: datetime) -> ColumnElement[bool]:
    column = table.c[criterion.column]
    if isinstance(criterion, IsNull):
        return column.is_(None)
    if isinstance(criterion, NotNull):
        return column.is_not(None)
    if isinstance(criterion, OneOf):
        return column.in_(criterion.values)
    if isinstance(criterion, Elapsed):
        return or_(column.is_(None), column < now)
    raise TypeError(f"not a retention criterion: {criterion!r}")
