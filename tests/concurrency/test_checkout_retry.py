"""A checkout whose answer is lost to a database fault after the order was committed (P15: the order
is kept exactly once): the client is told SERVICE_UNAVAILABLE, retries with the same idempotency key,
and gets the order that was placed, never a second one."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.carts.service import CartOwner
from shop_privacy.services import Services
from shop_privacy.storage.tables import Order

from ..conftest import client_for
from ..helpers import CHECKOUT
from .support import before_each_statement, shoppers

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P15")]


@contextmanager
def order_lines_unreadable(services: Services) -> Iterator[None]:
    """Every read of order lines fails as a failing disk or a lost connection does, in the driver's own error."""
    error: Exception = (sqlite3.OperationalError("disk I/O error") if services.db.url.is_sqlite
                        else psycopg.OperationalError("server closed the connection unexpectedly"))

    def fail(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "order_lines" in statement:
            raise error

    with before_each_statement(services, fail):
        yield


async def test_p15_a_checkout_answer_lost_after_the_commit_is_recovered_by_retrying_the_same_key(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    [[shopper]] = await shoppers(services, 1, password_hash=password_hash)
    await services.carts.add(CartOwner(shopper.customer_id, None), {"product_id": catalogue["SSL-DV"], "quantity": 2})
    client = client_for(app)
    checkout = {"input": {"paymentMethod": "CARD_STRIPE", "idempotencyKey": "retry-me-000001"}}
    with order_lines_unreadable(services):
        failed = await client.gql(CHECKOUT, checkout, headers=shopper.headers)
    assert failed.codes == ["SERVICE_UNAVAILABLE"], failed.body
    assert failed.data == {"checkout": None}
    async with services.db.read() as session:
        [placed] = (await session.exec(select(Order).where(Order.customer_id == shopper.customer_id))).all()
    retried = (await client.gql(CHECKOUT, checkout, headers=shopper.headers)).ok()["checkout"]
    assert retried["number"] == placed.order_number and [line["quantity"] for line in retried["lines"]] == [2]
    async with services.db.read() as session:
        count = (await session.exec(select(func.count()).select_from(Order))).one()
    assert count == 1
    await client.http.aclose()
