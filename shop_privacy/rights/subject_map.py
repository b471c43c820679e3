"""Where a data subject's rows are, derived from the declarations: every table with personal columns
links to its subject directly (`SubjectLink`), through a parent row (`ParentLink`), or through a
registered resolver (for tables keyed otherwise, e.g. by a keyed hash of the e-mail address).
A table with personal data that cannot be tied to any subject stops the start."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Select, Table, Uuid, select

from ..privacy.declarations import ParentLink, PersonalData, SubjectLink
from ..privacy.inventory import InventoryError
from ..storage.columns import PRIVACY_INFO_KEY
from ..storage.types import uuid_as_text


@dataclass(frozen=True)
class Subject:
    """The data subject a request is about: a customer, with what resolvers may need to find them."""

    id: uuid.UUID
    email: str
    language: str
    last_activity: datetime | None

    @classmethod
    def of(cls, customer: Any) -> Subject:
        return cls(customer.id, customer.email, customer.preferred_language,
                   customer.last_login_at or customer.created_at)


# table -> (table, subject) -> the where-clause selecting the subject's rows.
Resolver = Callable[[Table, Subject], ColumnElement[bool]]


@dataclass(frozen=True)
class SubjectTable:
    table: Table
    personal: tuple[tuple[Column[Any], PersonalData], ...]
    link: Column[Any] | None = None
    parent: tuple[Column[Any], str] | None = None
    resolver: Resolver | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def primary_key(self) -> Column[Any]:
        return list(self.table.primary_key.columns)[0]


def _declarations(table: Table) -> Iterable[tuple[Column[Any], Any]]:
    for column in table.columns:
        yield column, column.info.get(PRIVACY_INFO_KEY)


class SubjectMap:
    def __init__(self, metadatas: Iterable[MetaData], resolvers: Mapping[str, Resolver],
                 subject: str = "customer") -> None:
        tables: dict[str, SubjectTable] = {}
        problems: list[str] = []
        all_tables = [table for metadata in metadatas for table in metadata.sorted_tables]
        for table in all_tables:
            personal = tuple((c, d) for c, d in _declarations(table) if isinstance(d, PersonalData))
            links = [(c, d) for c, d in _declarations(table) if isinstance(d, SubjectLink)]
            parents = [(c, d.table) for c, d in _declarations(table) if isinstance(d, ParentLink)]
            own = next((c for c, d in links if d.subject == subject), None)
            if own is not None:
                tables[table.name] = SubjectTable(table, personal, link=own)
            elif parents and any(parent in tables for _, parent in parents):
                tables[table.name] = SubjectTable(table, personal, parent=next(
                    (c, p) for c, p in parents if p in tables))
            elif table.name in resolvers:
                tables[table.name] = SubjectTable(table, personal, resolver=resolvers[table.name])
            elif personal and not links:
                problems.append(f"{table.name}: holds personal data but nothing ties its rows to a data subject "
                                "(declare a subject link, a parent link, or register a resolver)")
        if problems:
            raise InventoryError(problems)
        self.tables: list[SubjectTable] = list(tables.values())  # parents before children
        self._by_name = tables

    def where(self, entry: SubjectTable, subject: Subject) -> ColumnElement[bool]:
        if entry.link is not None:
            return entry.link == subject.id
        if entry.resolver is not None:
            return entry.resolver(entry.table, subject)
        assert entry.parent is not None
        column, parent_name = entry.parent
        parent = self._by_name[parent_name]
        return column.in_(select(parent.primary_key).where(self.where(parent, subject)))

    def rows(self, entry: SubjectTable, subject: Subject, columns: Iterable[str] | None = None, *,
             uuids_as_text: bool = False) -> Select[Any]:
        """The subject's rows of `entry`: every column, or only those named (`Uuid` ones as text, if asked:
        see `storage.types.uuid_as_text`)."""
        if columns is None:
            chosen: list[Any] = [entry.table]
        else:
            chosen = [uuid_as_text(entry.table.c[name]) if uuids_as_text and isinstance(entry.table.c[name].type, Uuid)
                      else entry.table.c[name] for name in columns]
        return select(*chosen).where(self.where(entry, subject)).order_by(entry.primary_key)

    def children_first(self) -> list[SubjectTable]:
        return list(reversed(self.tables))
