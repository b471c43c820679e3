"""The export drops nothing (P22, P26), checked without the export's own code.

This test knows for itself which rows of which table belong to the customer (`_owned`), gives every
declared personal column of every table, plugin tables included, a distinct value in several rows,
and then looks for each value in `data.json` (in the section of its table, in the row it was written
to) and in `index.html`. It reads the declarations (the single source of truth) but never the
export's subject map, sections or serialisers, so a fault there cannot hide itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    insert,
    select,
    update,
)
from sqlmodel import SQLModel

from shop_privacy.audit.access_log import AccessRead
from shop_privacy.plugins import Plugin
from shop_privacy.privacy.declarations import NOT_PERSONAL, Erasure, PersonalData, SubjectLink, personal
from shop_privacy.services import Services, build_services
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.urls import DatabaseURL

from .conftest import make_settings
from .rights_fixtures import Seeded, export_of, seed_everything

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P22"), pytest.mark.policy("P26")]

ROWS_PER_TABLE = 3
SECRET_CATEGORY = "user.authorization.credentials"
SECRET_SHOWN = "[kept only as a one-way hash; not shown]"

# Tables holding staff members' own data: not part of a customer's export.
NOT_THE_CUSTOMERS = {"staff_users", "staff_sessions"}
# Tables with one row per customer at most (a unique key on the customer, or keyed by the e-mail).
ONE_ROW = {"customers", "carts", "login_throttle", "pending_registrations"}
# Values that tie a row to the customer (changing them would untie it) or that come from a closed
# list (a status, a purpose, a currency): kept as seeded; the row check below still compares them.
KEPT_COLUMNS = {
    "customers.email", "login_throttle.key", "pending_registrations.email", "erasure_ledger.email_hash",
    "cart_lines.product_id",
}
CLOSED_LISTS = {"status", "kind", "purpose", "legal_basis", "channel", "currency", "preferred_language",
                "address_country", "role", "transition", "from_status", "to_status", "payment_method",
                "billing_period", "granted", "changed_by", "tier"}

plugin_metadata = MetaData()
gift_cards = Table(
    "gift_cards", plugin_metadata,
    Column("id", Uuid, primary_key=True, default=uuid.uuid4, info={PRIVACY_INFO_KEY: NOT_PERSONAL}),
    Column("customer_id", Uuid, nullable=False, info={PRIVACY_INFO_KEY: SubjectLink()}),
    Column("recipient_name", String(100), nullable=False, info={PRIVACY_INFO_KEY: personal(
        categories="user.name", purposes="order_fulfilment", retention="account", erasure=Erasure.DELETE,
        en="Gift card for", sv="Presentkort till")}),
    Column("greeting", String(500), nullable=True, info={PRIVACY_INFO_KEY: personal(
        categories="user.content", purposes="order_fulfilment", retention="account", erasure=Erasure.DELETE,
        en="Greeting", sv="Hälsning")}),
    Column("balance_minor", Integer, nullable=False, info={PRIVACY_INFO_KEY: personal(
        categories="user.financial", purposes="order_fulfilment", retention="account", erasure=Erasure.DELETE,
        en="Balance", sv="Saldo")}),
    Column("issued_at", DateTime(timezone=True), nullable=False, info={PRIVACY_INFO_KEY: personal(
        categories="user.financial", purposes="order_fulfilment", retention="account", erasure=Erasure.DELETE,
        en="Issued", sv="Utfärdat")}),
)


def _personal_columns(table: Table) -> list[tuple[Column[Any], PersonalData]]:
    return [(column, column.info[PRIVACY_INFO_KEY]) for column in table.columns
            if isinstance(column.info.get(PRIVACY_INFO_KEY), PersonalData)]


def _tables() -> list[Table]:
    tables = [*SQLModel.metadata.sorted_tables, *plugin_metadata.sorted_tables]
    return [t for t in tables if _personal_columns(t) and t.name not in NOT_THE_CUSTOMERS]


def _owned(table: Table, seeded: Seeded, services: Services) -> ColumnElement[bool]:
    """Which rows of `table` are the customer's: the test's own knowledge, not the export's."""
    tables = SQLModel.metadata.tables
    orders, carts = tables["orders"], tables["carts"]
    of_orders = select(orders.c.id).where(orders.c.customer_id == seeded.customer_id)
    throttle_keys = services.authentication._deps.throttle.keys
    special: dict[str, Callable[[], ColumnElement[bool]]] = {
        "customers": lambda: table.c.id == seeded.customer_id,
        "access_log": lambda: table.c.subject_id == seeded.customer_id,
        "order_lines": lambda: table.c.order_id.in_(of_orders),
        "order_events": lambda: table.c.order_id.in_(of_orders),
        "cart_lines": lambda: table.c.cart_id.in_(select(carts.c.id).where(carts.c.customer_id == seeded.customer_id)),
        "login_throttle": lambda: table.c.key == throttle_keys(seeded.email, None).account,
        "pending_registrations": lambda: table.c.email == seeded.email,
    }
    if table.name in special:
        return special[table.name]()
    assert "customer_id" in table.c, f"{table.name}: say in this test how its rows belong to a customer"
    return table.c.customer_id == seeded.customer_id


def _distinct_value(column: Column[Any], table_index: int, column_index: int, row_index: int) -> Any:
    """A value found nowhere else in the export, of the column's type; None to keep the seeded one."""
    if f"{column.table.name}.{column.name}" in KEPT_COLUMNS or column.name in CLOSED_LISTS:
        return None
    serial = table_index * 1000 + column_index * 10 + row_index
    type_name = type(column.type).__name__
    if type_name in {"UTCDateTime", "DateTime"}:
        return datetime(2011, 3, 4, tzinfo=UTC) + timedelta(minutes=serial)
    if type_name == "Integer":
        return 7_000_000 + serial
    if type_name in {"AutoString", "String", "Text"}:
        marker = f"zx{serial:06d}q"
        assert getattr(column.type, "length", None) is None or column.type.length >= len(marker), \
            f"{column.table.name}.{column.name}: too short for a marker; add it to KEPT_COLUMNS or CLOSED_LISTS"
        return marker
    raise AssertionError(f"{column.table.name}.{column.name}: no distinct value for type {type_name}")


def _copy(row: dict[str, Any], table: Table) -> dict[str, Any]:
    """The row again under a new key, with new values for columns that must be unique."""
    unique = {c.name for constraint in table.constraints if type(constraint).__name__ == "UniqueConstraint"
              for c in constraint.columns}  # type: ignore[attr-defined]
    unique |= {c.name for index in table.indexes if index.unique for c in index.columns}
    copy = dict(row)
    for column in table.columns:
        if (column.name not in unique and not column.primary_key) or column.foreign_keys \
                or isinstance(column.info.get(PRIVACY_INFO_KEY), SubjectLink):
            continue
        if isinstance(row[column.name], uuid.UUID):
            copy[column.name] = uuid.uuid4()
        elif isinstance(row[column.name], str):
            copy[column.name] = uuid.uuid4().hex[: min(32, column.type.length or 32)]  # type: ignore[attr-defined]
        elif column.primary_key:
            del copy[column.name]
    return copy


def _as_exported(value: Any, declaration: PersonalData) -> Any:
    if value is None:
        return None
    if any(c == SECRET_CATEGORY or c.startswith(SECRET_CATEGORY + ".") for c in declaration.categories):
        return SECRET_SHOWN
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()

    def handle_data(self, data: str) -> None:
        self.texts.add(data.strip())


async def _seed_access_reads(services: Services, seeded: Seeded, table_index: int) -> None:
    """The access log is append-only: its rows are written the way staff reads write them."""
    reads = [AccessRead(uuid.uuid4(), seeded.customer_id, "customer_service", frozenset({"user.contact.email"}),
                        frozenset({f"customers.zx{table_index * 1000 + row:06d}q"}), f"req-{row}")
             for row in range(ROWS_PER_TABLE - 1)]
    await services.access_log.append(reads)


async def _seed(services: Services, seeded: Seeded) -> tuple[list[str], list[str]]:
    """Several rows per table, each personal value distinct; returns the values to find in the export and
    the credentials that must not be in it."""
    markers: list[str] = []
    hidden: list[str] = []
    for table_index, table in enumerate(_tables(), start=1):
        if table.name == "access_log":
            await _seed_access_reads(services, seeded, table_index)
            markers += [f"customers.zx{table_index * 1000 + row:06d}q" for row in range(ROWS_PER_TABLE - 1)]
            continue
        owned = _owned(table, seeded, services)
        async with services.db.transaction() as session:
            rows = [dict(r) for r in (await session.exec(select(table).where(owned))).mappings()]
            assert rows, f"{table.name}: seed_everything (or this test) must give the customer a row here"
            if table.name not in ONE_ROW:
                while len(rows) < ROWS_PER_TABLE:
                    copy = _copy(rows[0], table)
                    await session.exec(insert(table).values(copy))  # type: ignore[call-overload]
                    rows.append(copy)
            key = next(c for c in table.columns if c.primary_key)
            for row_index, row in enumerate(rows):
                values = {}
                for column_index, (column, _) in enumerate(_personal_columns(table)):
                    value = _distinct_value(column, table_index, column_index, row_index)
                    if value is not None:
                        values[column.name] = value
                        shown = _as_exported(value, _personal_columns(table)[column_index][1])
                        # A credential is shown as a placeholder: its value must be nowhere in the export.
                        (hidden if shown == SECRET_SHOWN else markers).append(value if shown == SECRET_SHOWN else shown)
                if values:
                    await session.exec(update(table).where(key == row[key.name]).values(values))  # type: ignore[call-overload]
    return [str(m) for m in markers], [str(h) for h in hidden]


@pytest.fixture
async def services_with_plugin(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    engine = create_engine(DatabaseURL.parse(database_url).sync_url)
    plugin_metadata.create_all(engine)
    plugin = Plugin("gifts", metadata=plugin_metadata)
    services = build_services(make_settings(database_url, tmp_path), plugins=[plugin])
    try:
        yield services
    finally:
        await services.close()
        plugin_metadata.drop_all(engine)
        engine.dispose()


async def test_p22_p26_every_personal_value_of_every_row_of_every_table_is_in_data_json_and_index_html(
    services_with_plugin: Services, unique_email: str
) -> None:
    services = services_with_plugin
    seeded = await seed_everything(services, unique_email)
    async with services.db.transaction() as session:
        await session.exec(insert(gift_cards).values(
            id=uuid.uuid4(), customer_id=seeded.customer_id, recipient_name="Farmor", greeting="Grattis!",
            balance_minor=50000, issued_at=datetime.now(UTC)))
    markers, hidden = await _seed(services, seeded)

    document, html = await export_of(services, seeded.customer_id)

    sections = {section["name"]: section for section in document["sections"]}
    checked_rows = 0
    for table in _tables():
        assert table.name in sections, f"{table.name}: no section in data.json"
        exported_rows = [row["values"] for row in sections[table.name]["rows"]]
        async with services.db.reader() as session:
            stored = [dict(r) for r in (await session.exec(
                select(table).where(_owned(table, seeded, services)))).mappings()]
        assert len(stored) >= (1 if table.name in ONE_ROW else ROWS_PER_TABLE), table.name
        assert len(exported_rows) == len(stored), f"{table.name}: {len(stored)} held, {len(exported_rows)} exported"
        for row in stored:
            expected = {column.name: _as_exported(row[column.name], declaration)
                        for column, declaration in _personal_columns(table)}
            assert any(all(exported.get(name) == value for name, value in expected.items())
                       for exported in exported_rows), f"{table.name}: missing or altered: {expected}"
            checked_rows += 1
    assert checked_rows >= 3 * len(_tables()) - 2 * len(ONE_ROW)

    cells = _Cells()
    cells.feed(html)
    missing = [marker for marker in markers if marker not in cells.texts]
    assert not missing, f"values not shown in index.html: {missing[:10]}"
    assert len(set(markers)) == len(markers) > 150
    whole = json.dumps(document, ensure_ascii=False) + html
    assert hidden and not [secret for secret in hidden if secret in whole]

