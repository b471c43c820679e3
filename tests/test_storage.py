"""Storage: the migrations build exactly the models' schema, and every column is declared (P02)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, create_engine
from sqlmodel import SQLModel

from shop_privacy.privacy.declarations import NotPersonal, ParentLink, PersonalData, SubjectLink
from shop_privacy.privacy.inventory import InventoryError
from shop_privacy.privacy.taxonomy import covers
from shop_privacy.storage import tables  # noqa: F401
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.inventory import check_declarations, declared_columns
from shop_privacy.storage.urls import DatabaseURL


def test_migrations_create_exactly_the_models_schema(database_url: str) -> None:
    engine = create_engine(DatabaseURL.parse(database_url).sync_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.policy("P02")
def test_p02_every_column_of_every_table_is_declared() -> None:
    check_declarations()
    columns = declared_columns()
    assert columns and all(isinstance(c.declaration, PersonalData | NotPersonal | SubjectLink | ParentLink)
                           for c in columns)


@pytest.mark.policy("P02")
def test_p02_an_undeclared_column_stops_the_start_naming_it() -> None:
    metadata = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(metadata)
    Table("plugin_notes", metadata, Column("note", String, info={PRIVACY_INFO_KEY: NotPersonal()}),
          Column("customer_phone", String))
    with pytest.raises(InventoryError) as raised:
        check_declarations(metadata)
    assert raised.value.problems == [
        "plugin_notes.customer_phone: undeclared column (declare it personal or not personal)"]


@pytest.mark.policy("P02")
def test_p02_unknown_categories_purposes_and_retention_are_refused() -> None:
    from shop_privacy.privacy.declarations import Erasure, personal
    from shop_privacy.privacy.inventory import DeclaredColumn, problems_with

    declaration = personal(categories="user.con", purposes="selling", retention="forever",
                           erasure=Erasure.DELETE, en="x", sv="x")
    problems = problems_with([DeclaredColumn("t", "c", declaration)])
    assert problems == ["t.c: unknown category 'user.con'", "t.c: unknown purpose 'selling'",
                        "t.c: unknown retention rule 'forever'"]


@pytest.mark.policy("P02")
def test_p02_a_purpose_without_a_legal_basis_stops_the_start() -> None:
    from shop_privacy.privacy.inventory import problems_with
    from shop_privacy.privacy.purposes import PURPOSES, Purpose

    broken = {**PURPOSES, "profiling": Purpose("profiling", None, frozenset(), "Profiling", "Profilering")}
    assert problems_with([], purposes=broken) == ["purpose 'profiling' has no legal basis"]


def test_category_matching_is_segment_aware() -> None:
    assert covers("user.contact", "user.contact.email")
    assert covers("user.contact.email", "user.contact.email")
    assert not covers("user.con", "user.contact.email")
    assert not covers("user.contact.email", "user.contact")


@pytest.mark.policy("P07")
def test_p07_order_contact_columns_are_declared_personal_with_purposes() -> None:
    order_columns = {c.column: c.declaration for c in declared_columns() if c.table == "orders"}
    for column in ("first_name", "last_name", "email", "phone", "address_street", "ip_address", "company_org_number"):
        declaration = order_columns[column]
        assert isinstance(declaration, PersonalData), column
        assert declaration.purposes and declaration.label_sv and declaration.label_en
