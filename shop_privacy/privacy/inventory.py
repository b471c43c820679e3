"""The start-up check: every stored column is declared, and every declaration makes sense."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
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
    """Raised at start-up; the message names every offending column, then the valid values of what was
    misnamed (`hints`), so whoever declared it need not go looking."""

    def __init__(self, problems: list[str], hints: Sequence[str] = ()) -> None:
        super().__init__("privacy declarations are incomplete:\n  " + "\n  ".join([*problems, *hints]))
        self.problems = problems
        self.hints = list(hints)


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


def valid_values_for(
    columns: Iterable[DeclaredColumn],
    *,
    categories: Mapping[str, str] = CATEGORIES,
    purposes: Mapping[str, Purpose] = PURPOSES,
    retention_rules: Mapping[str, RetentionRule] = RETENTION_RULES,
) -> list[str]:
    """For each kind of name some declaration got wrong: the closest valid names, then all of them."""
    unknown: dict[str, set[str]] = {"category": set(), "purpose": set(), "retention rule": set()}
    for col in columns:
        if isinstance(col.declaration, PersonalData):
            unknown["category"].update(c for c in col.declaration.categories if c not in categories)
            unknown["purpose"].update(p for p in col.declaration.purposes if p not in purposes)
            if col.declaration.retention not in retention_rules:
                unknown["retention rule"].add(col.declaration.retention)
    valid: dict[str, Sequence[str]] = {"category": list(categories), "purpose": list(purposes),
                                       "retention rule": list(retention_rules)}
    hints: list[str] = []
    for kind, names in unknown.items():
        for name in sorted(names):
            close = difflib.get_close_matches(name, valid[kind], n=3)
            if close:
                hints.append(f"{kind} {name!r}: did you mean {' or '.join(map(repr, close))}?")
        if names:
            plural = {"category": "categories", "purpose": "purposes", "retention rule": "retention rules"}[kind]
            hints.append(f"valid {plural}: {', '.join(valid[kind])}")
    return hints


def check_inventory(columns: Iterable[DeclaredColumn], **registries: Mapping) -> None:
    columns = list(columns)
    problems = problems_with(columns, **registries)
    if problems:
        raise InventoryError(problems, valid_values_for(columns, **registries))
