"""The start-up check: every stored column is declared, and every declaration makes sense."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .declarations import Declaration, PersonalData
from .purposes import PURPOSES, Purpose
from .retention import RETENTION_RULES, RetentionRule
from .taxonomy import CATEGORIES


@dataclass(frozen=True)
class DeclaredColumn:
    table: str
    column: str
    declaration: Declaration | None


class InventoryError(Exception):
    """Raised at start-up; the message names every offending column."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("privacy declarations are incomplete:\n  " + "\n  ".join(problems))
        self.problems = problems


def problems_with(
    columns: Iterable[DeclaredColumn],
    *,
    categories: Mapping[str, str] = CATEGORIES,
    purposes: Mapping[str, Purpose] = PURPOSES,
    retention_rules: Mapping[str, RetentionRule] = RETENTION_RULES,
) -> list[str]:
    problems: list[str] = []
    for purpose in purposes.values():
        if purpose.legal_basis is None:
            problems.append(f"purpose {purpose.key!r} has no legal basis")
    for col in columns:
        where = f"{col.table}.{col.column}"
        decl = col.declaration
        if decl is None:
            problems.append(f"{where}: undeclared column (declare it personal or not personal)")
            continue
        if not isinstance(decl, PersonalData):
            continue
        if not decl.categories or not decl.purposes:
            problems.append(f"{where}: a personal declaration needs categories and purposes")
        problems.extend(f"{where}: unknown category {c!r}" for c in decl.categories if c not in categories)
        problems.extend(f"{where}: unknown purpose {p!r}" for p in decl.purposes if p not in purposes)
        if decl.retention not in retention_rules:
            problems.append(f"{where}: unknown retention rule {decl.retention!r}")
    return problems


def check_inventory(columns: Iterable[DeclaredColumn], **registries: Mapping) -> None:
    problems = problems_with(columns, **registries)
    if problems:
        raise InventoryError(problems)
