"""A shop's own data categories, purposes and retention rules, added to the package's.

The registries (`CATEGORIES`, `PURPOSES`, `RETENTION_RULES`) are what every part of the package reads:
the start-up check, the export, the erasure, the record of processing, staff access decisions. A shop's
plugins add to them once, when its services are built; they never change or remove what the package
declares, since the package's promises rest on those definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import TypeVar, cast

from .purposes import PURPOSES, Purpose
from .retention import RETENTION_RULES, RetentionRule
from .taxonomy import CATEGORIES, segments

_V = TypeVar("_V")


class VocabularyConflict(ValueError):
    """A plugin tried to redefine or misplace a category, purpose or retention rule."""


def extend(*, categories: Mapping[str, str] | None = None, purposes: Iterable[Purpose] = (),
           retention_rules: Iterable[RetentionRule] = (), source: str = "a plugin") -> None:
    """Add to the registries; adding the same definition again is a no-op (services may be built twice)."""
    new_categories = dict(categories or {})
    problems: list[str] = []
    for key in sorted(new_categories, key=lambda k: len(segments(k))):
        parent = ".".join(segments(key)[:-1])
        if not parent or (parent not in CATEGORIES and parent not in new_categories):
            problems.append(f"category {key!r} must extend a known category; known: {', '.join(CATEGORIES)}")
    problems += _conflicts("category", CATEGORIES, new_categories)
    problems += _conflicts("purpose", PURPOSES, {p.key: p for p in purposes})
    problems += _conflicts("retention rule", RETENTION_RULES, {r.key: r for r in retention_rules})
    for purpose in purposes:
        if purpose.legal_basis is None:
            problems.append(f"purpose {purpose.key!r} has no legal basis")
    if problems:
        raise VocabularyConflict(f"{source}: " + "; ".join(problems))
    _writable(CATEGORIES).update(new_categories)
    _writable(PURPOSES).update({p.key: p for p in purposes})
    _writable(RETENTION_RULES).update({r.key: r for r in retention_rules})


def _conflicts(kind: str, registry: Mapping[str, _V], added: Mapping[str, _V]) -> list[str]:
    return [f"{kind} {key!r} is already defined differently; choose another key"
            for key, value in added.items() if key in registry and registry[key] != value]


def _writable(registry: Mapping[str, _V]) -> MutableMapping[str, _V]:
    # The registries are dicts, typed read-only so that nothing but this module adds to them.
    return cast(MutableMapping[str, _V], registry)
