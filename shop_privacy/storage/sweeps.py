"""The retention sweeps declared on tables (`swept(...)`), read back: which, the columns a reducing sweep
clears, and what is wrong with them (for the start-up check)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import MetaData, Table

from ..privacy.declarations import Erasure, PersonalData
from ..privacy.retention import RETENTION_RULES, RetentionRule, Sweep
from .columns import PRIVACY_INFO_KEY, SWEEPS


def declared_sweeps(metadata: MetaData) -> list[tuple[Table, Sweep]]:
    return [(table, declared) for table in metadata.sorted_tables for declared in table.info.get(SWEEPS, ())]


def reduced_columns(table: Table, rule: str) -> dict[str, Any]:
    """The columns declared with `rule`, each with its erased value (as its declaration's strategy says)."""
    values: dict[str, Any] = {}
    for column in table.columns:
        declaration = column.info.get(PRIVACY_INFO_KEY)
        if isinstance(declaration, PersonalData) and declaration.retention == rule:
            values[column.name] = "[erased]" if declaration.erasure is Erasure.PLACEHOLDER else None
    return values


def sweep_problems(metadata: MetaData, rules: Mapping[str, RetentionRule] = RETENTION_RULES) -> list[str]:
    problems: list[str] = []
    for table, declared in declared_sweeps(metadata):
        where = f"{table.name}: sweep {declared.name!r}"
        if declared.rule not in rules:
            problems.append(f"{where}: unknown retention rule {declared.rule!r}")
        problems.extend(f"{where}: no column {name!r}" for name in declared.columns if name not in table.c)
        if declared.reduce and not reduced_columns(table, declared.rule):
            problems.append(f"{where}: reduces, but no column is declared with rule {declared.rule!r}")
    return problems
