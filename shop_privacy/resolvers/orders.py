"""Order resolvers: only ever the logged-in customer's own orders."""

from __future__ import annotations

import strawberry

from ..orders.service import CHECKOUT_PURPOSES
from ..payments.providers import PaymentMethod as Method
from ..schema.core.connections import connection_from_page
from ..schema.core.context import StorefrontContext
from ..schema.core.ids import decode_id
from ..schema.core.minimisation import reject_unneeded
from ..schema.orders.types import CheckoutInput, Order, OrderConnection
from .inputs import input_data

Info = strawberry.Info[StorefrontContext, None]


async def my_orders(info: Info, first: int = 20, after: str | None = None) -> OrderConnection | None:
    context = info.context
    viewer = await context.require_viewer()
    guard = await context.guard()
    async with context.read() as session:
        page = await context.services.orders.list_orders(session, viewer.customer_id, first=first, after=after)
    return connection_from_page(page, lambda row: Order.from_row(row, guard))


async def order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002 - GraphQL's name
    """Another customer's order, a malformed id and a missing order all answer null."""
    context = info.context
    viewer = await context.require_viewer()
    order_id = decode_id("Order", id)
    if order_id is None:
        return None
    async with context.read() as session:
        row = await context.services.orders.get_order(session, viewer.customer_id, order_id)
    return Order.from_row(row, await context.guard()) if row else None


async def checkout(info: Info, input: CheckoutInput) -> Order | None:  # noqa: A002
    context = info.context
    viewer = await context.require_viewer()
    reject_unneeded(input, CHECKOUT_PURPOSES[Method(input.payment_method.value)])
    row = await context.services.orders.checkout(viewer.customer_id, input_data(input), context.client_ip)
    return Order.from_row(row, await context.guard())
