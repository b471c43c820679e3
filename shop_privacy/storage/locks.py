"""Row locks for writes that must not interleave, always taken in one order so that two writers can
only queue, never deadlock: **the customer first, then their cart**, then whatever else the
transaction touches (lines, orders, requests).

On PostgreSQL these are `SELECT … FOR UPDATE` row locks held to the end of the transaction. On SQLite
the whole database has one writer at a time (`BEGIN IMMEDIATE`), so the same statements are plain
reads there and the order holds trivially.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .tables import Cart, Customer, Order
from .types import utc_now


async def lock_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    """The customer, locked against concurrent checkouts, logins, cart changes and erasure; None once
    erased."""
    query = select(Customer).where(Customer.id == customer_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def lock_customer_cart(session: AsyncSession, customer_id: uuid.UUID, *, create: bool) -> Cart | None:
    """The customer's one cart, locked; made first when `create` and there is none. Call with the
    customer locked. Creating is an upsert, so even a writer that skipped the customer lock cannot
    make a second cart or fail on the unique constraint."""
    if create:
        now = utc_now()
        await insert_unless_present(session, Cart, {"id": uuid.uuid4(), "customer_id": customer_id,
                                                    "created_at": now, "updated_at": now}, unique=["customer_id"])
    query = select(Cart).where(Cart.customer_id == customer_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def lock_anonymous_cart(session: AsyncSession, token_key: str) -> Cart | None:
    query = select(Cart).where(Cart.token_hash == token_key, Cart.customer_id == None).with_for_update()  # noqa: E711
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """The order, locked against concurrent changes of its state. Take its customer's lock first (when it
    still has one): an erasure changes the customer's orders under that lock."""
    query = select(Order).where(Order.id == order_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def insert_unless_present(session: AsyncSession, table: type[SQLModel], values: Mapping[str, Any],
                                *, unique: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on the unique columns `unique`: a row another transaction made
    first is no error and does not abort this transaction. Read the row afterwards, locked."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    await session.exec(insert.values(**values).on_conflict_do_nothing(index_elements=unique))  # type: ignore[call-overload]
