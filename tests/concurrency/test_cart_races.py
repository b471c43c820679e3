"""Carts under concurrency (P15: the cart is persisted server-side, exactly as acknowledged): parallel
adds lose no quantity, a customer's first adds end in one cart, and an add racing a checkout gets a
clean answer, in one app process and in two."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.storage.tables import Cart, CartLine, Order, OrderLine

from ..conftest import client_for
from ..helpers import ADD_TO_CART, CHECKOUT, StorefrontClient, product_ids
from .support import Shopper, app_servers, at_once, codes_of, shoppers

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P15")]


def _add(product_id: str, quantity: int = 1) -> dict[str, object]:
    return {"input": {"productId": product_id, "quantity": quantity}}


async def _cart_quantities(services: Services, customer_id: uuid.UUID) -> tuple[int, int]:
    """(number of carts, total quantity in them) of a customer."""
    async with services.db.read() as session:
        carts = (await session.exec(select(Cart.id).where(Cart.customer_id == customer_id))).all()
        quantity = (await session.exec(select(func.coalesce(func.sum(CartLine.quantity), 0))
                                       .where(col(CartLine.cart_id).in_(carts)))).one()
    return len(carts), int(quantity)


async def _ordered_quantity(services: Services, customer_id: uuid.UUID) -> int:
    async with services.db.read() as session:
        return int((await session.exec(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order, col(Order.id) == col(OrderLine.order_id))
            .where(Order.customer_id == customer_id))).one())


async def test_p15_parallel_adds_to_one_cart_lose_no_quantity(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    client = client_for(app)
    product = (await product_ids(client))["SSL-DV"]
    [[shopper]] = await shoppers(services, 1, password_hash=password_hash)
    (await client.gql(ADD_TO_CART, _add(product), headers=shopper.headers)).ok()
    for round_ in range(1, 6):
        responses = await at_once(client.gql(ADD_TO_CART, _add(product), headers=shopper.headers) for _ in range(9))
        assert codes_of(responses) == []
        assert await _cart_quantities(services, shopper.customer_id) == (1, 1 + 9 * round_)
    await client.http.aclose()


async def test_p15_a_customers_first_parallel_adds_all_succeed_and_end_in_one_cart(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    client = client_for(app)
    product = (await product_ids(client))["SSL-DV"]
    for [shopper] in await shoppers(services, 5, password_hash=password_hash):
        responses = await at_once(client.gql(ADD_TO_CART, _add(product), headers=shopper.headers) for _ in range(7))
        assert codes_of(responses) == []
        assert await _cart_quantities(services, shopper.customer_id) == (1, 7)
    await client.http.aclose()


async def _race_adds_with_checkout(client: StorefrontClient, shopper: Shopper, product: str, key: str,
                                   adds: int) -> tuple[int, bool]:
    """Adds and a checkout at once; (quantity acknowledged by the adds, whether the checkout placed an order)."""
    calls = [client.gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE", "idempotencyKey": key}},
                        headers=shopper.headers)]
    calls += [client.gql(ADD_TO_CART, _add(product), headers=shopper.headers) for _ in range(adds)]
    checkout, *added = await at_once(calls)
    # The loser of the race gets a clean answer: never INTERNAL_SERVER_ERROR.
    assert set(codes_of([checkout, *added])) <= {"BAD_USER_INPUT"}, [checkout.body, *(a.body for a in added)]
    if checkout.codes:
        assert checkout.errors[0]["extensions"].get("reason") == "empty_cart"
    return sum(1 for a in added if not a.errors), bool(checkout.data and checkout.data["checkout"])


async def test_p15_an_add_racing_a_checkout_is_either_in_the_order_or_in_the_cart_never_lost(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    client = client_for(app)
    product = (await product_ids(client))["SSL-DV"]
    [[shopper]] = await shoppers(services, 1, password_hash=password_hash)
    acknowledged = 0
    for round_ in range(10):
        (await client.gql(ADD_TO_CART, _add(product, 2), headers=shopper.headers)).ok()
        acknowledged += 2
        added, _ = await _race_adds_with_checkout(client, shopper, product, f"race-key-{round_:04d}", 4)
        acknowledged += added
        carts, in_cart = await _cart_quantities(services, shopper.customer_id)
        assert carts <= 1
        assert in_cart + await _ordered_quantity(services, shopper.customer_id) == acknowledged
    await client.http.aclose()


async def test_p15_two_app_processes_share_one_cart_without_losing_adds(
    database_url: str, tmp_path: Path, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    made = await shoppers(services, 3, password_hash=password_hash)
    with app_servers(database_url, tmp_path) as servers:
        clients = [server.client() for server in servers]
        product = (await product_ids(clients[0]))["SSL-DV"]
        for [shopper] in made:
            # The first adds (no cart yet) and the ones after, spread over both processes.
            for _ in range(2):
                responses = await at_once(clients[i % 2].gql(ADD_TO_CART, _add(product), headers=shopper.headers)
                                          for i in range(8))
                assert codes_of(responses) == []
            assert await _cart_quantities(services, shopper.customer_id) == (1, 16)
        [shopper] = made[0]
        acknowledged = 16
        for round_ in range(5):
            checkout, *added = await at_once(
                [clients[0].gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE",
                                                     "idempotencyKey": f"two-proc-{round_:04d}"}},
                                headers=shopper.headers)]
                + [clients[1].gql(ADD_TO_CART, _add(product), headers=shopper.headers) for _ in range(3)])
            assert set(codes_of([checkout, *added])) <= {"BAD_USER_INPUT"}
            acknowledged += sum(1 for a in added if not a.errors)
            _, in_cart = await _cart_quantities(services, shopper.customer_id)
            assert in_cart + await _ordered_quantity(services, shopper.customer_id) == acknowledged
        for client in clients:
            await client.http.aclose()
