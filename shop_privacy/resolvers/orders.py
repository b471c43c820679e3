"""Order resolvers: only ever the logged-in customer's own orders."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from ..orders.service import CHECKOUT_PURPOSES
from ..pagination import Page
from ..payments.providers import PaymentMethod as Method
from ..schema.core.connections import connection_from_page
from ..schema.core.context import StorefrontContext
from ..schema.core.guard import PrivacyGuard
from ..schema.core.ids import decode_id
from ..schema.core.minimisation import reject_unneeded
from ..schema.core.selection import asks_for
from ..schema.orders.types import CheckoutInput, Order, OrderConnection
from .inputs import input_data

Info = strawberry.Info[StorefrontContext, None]


async def my_orders(info: Info, first: int = 20, after: str | None = None) -> OrderConnection | None:
    return await my_orders_page(info.context, first, after, with_lines=asks_for(info, "lines"))


async def my_orders_page(context: StorefrontContext, first: int, after: str | None, *,
                         with_lines: bool) -> OrderConnection:
    page, lines, guard = await my_order_rows(context, first, after, with_lines=with_lines)
    return connection_from_page(page, lambda row: Order.from_row(row, guard, lines_of(lines, row)))


def lines_of(lines: dict[uuid.UUID, list[Any]] | None, row: Any) -> list[Any] | None:
    """An order's lines when they were read with the page (None: not read, the dataloader reads them)."""
    return lines.get(row.id, []) if lines is not None else None


async def my_order_rows(context: StorefrontContext, first: int, after: str | None, *, with_lines: bool,
                        ) -> tuple[Page[Any], dict[uuid.UUID, list[Any]] | None, PrivacyGuard]:
    """The session look-up, the page and (with_lines) its lines: one read transaction. The rows
    `my_orders_page` builds its objects from, and what a compiled trusted document runs
    (schema/compiled.py)."""
    orders = context.services.orders
    async with context.read_as_viewer() as (session, viewer):
        page = await orders.list_orders(session, viewer.customer_id, first=first, after=after)
        lines = await orders.lines_by_order(session, [row.id for row in page.items]) if with_lines else None
    return page, lines, await context.guard()  # the viewer is known: no read


async def order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002 - GraphQL's name
    return await order_by_id(info.context, id, with_lines=asks_for(info, "lines"))


async def order_by_id(context: StorefrontContext, id: str, *, with_lines: bool) -> Order | None:  # noqa: A002
    """Another customer's order, a malformed id and a missing order all answer null."""
    found = await order_rows(context, id, with_lines=with_lines)
    if found is None:
        return None
    row, lines = found
    return Order.from_row(row, await context.guard(), lines)


async def order_rows(context: StorefrontContext, id: str, *,  # noqa: A002 - GraphQL's name
                     with_lines: bool) -> tuple[Any, list[Any] | None] | None:
    """The viewer's order and (with_lines) its lines, in one read transaction; None for another customer's
    order, a malformed id and a missing order alike. What `order_by_id` builds its object from, and what
    a compiled trusted document runs."""
    orders = context.services.orders
    async with context.read_as_viewer() as (session, viewer):
        order_id = decode_id("Order", id)
        if order_id is None:
            return None
        row = await orders.get_order(session, viewer.customer_id, order_id)
        lines = await orders.lines_by_order(session, [row.id]) if row is not None and with_lines else None
    if row is None:
        return None
    return row, lines.get(row.id, []) if lines is not None else None


async def checkout(info: Info, input: CheckoutInput) -> Order | None:  # noqa: A002
    context = info.context
    viewer = await context.require_viewer()
    reject_unneeded(input, CHECKOUT_PURPOSES[Method(input.payment_method.value)])
    row = await context.services.orders.checkout(viewer.customer_id, input_data(input), context.client_ip)
    return Order.from_row(row, await context.guard())
