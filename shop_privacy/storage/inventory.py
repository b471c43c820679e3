"""Hands every column of every table, with its declaration, to the privacy core's start-up check."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

from ..privacy.declarations import Declaration, NotPersonal
from ..privacy.inventory import DeclaredColumn, InventoryError, check_inventory
from .columns import PRIVACY_INFO_KEY
from .sweeps import sweep_problems


def declared_columns(metadata: MetaData = SQLModel.metadata) -> list[DeclaredColumn]:
    from . import tables  # noqa: F401  (registers every table)

    columns: list[DeclaredColumn] = []
    for table in metadata.sorted_tables:
        table_declaration = table.info.get(PRIVACY_INFO_KEY)
        for column in table.columns:
            declaration: Declaration | None = column.info.get(PRIVACY_INFO_KEY)
            if declaration is None and isinstance(table_declaration, NotPersonal):
                declaration = table_declaration
            columns.append(DeclaredColumn(table.name, column.name, declaration))
    return columns


def check_declarations(metadata: MetaData = SQLModel.metadata) -> None:
    """Raise `InventoryError` naming every column that is undeclared or declared wrongly, or a retention
    sweep declared on a table that names an unknown rule or column."""
    check_inventory(declared_columns(metadata))
    problems = sweep_problems(metadata)
    if problems:
        raise InventoryError(problems)
