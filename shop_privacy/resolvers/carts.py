"""Cart resolvers: the cart belongs to the logged-in customer, else to the cart cookie or token."""

from __future__ import annotations

import strawberry

from ..carts.service import CART_PURPOSES, CartOwner, CartView
from ..schema.carts.types import AddToCartInput, Cart, UpdateCartLineInput
from ..schema.core.context import StorefrontContext
from ..schema.core.minimisation import reject_unneeded
from .inputs import input_data, required_id

Info = strawberry.Info[StorefrontContext, None]


async def _owner(context: StorefrontContext) -> CartOwner:
    viewer = await context.viewer()
    if viewer is not None:
        return CartOwner(customer_id=viewer.customer_id, token=None)
    return CartOwner(customer_id=None, token=context.cart_token)


async def _cart(context: StorefrontContext, view: CartView | None) -> Cart | None:
    return Cart.from_view(view, await context.guard()) if view else None


async def cart(info: Info) -> Cart | None:
    context = info.context
    owner = await _owner(context)
    async with context.read() as session:
        view = await context.services.carts.view(session, owner)
    return await _cart(context, view)


async def add_to_cart(info: Info, input: AddToCartInput) -> Cart | None:  # noqa: A002 - GraphQL's name
    context = info.context
    reject_unneeded(input, CART_PURPOSES)
    data = input_data(input)
    data["product_id"] = required_id("Product", input.product_id, "product")
    change = await context.services.carts.add(await _owner(context), data)
    if change.issued_token:
        context.set_cart_cookie(change.issued_token)
    return await _cart(context, change.cart)


async def update_cart_line(info: Info, input: UpdateCartLineInput) -> Cart | None:  # noqa: A002
    context = info.context
    line_id = required_id("CartLine", input.line_id, "cart line")
    return await _cart(context, await context.services.carts.update_line(await _owner(context), line_id,
                                                                          input.quantity))


async def remove_cart_line(info: Info, line_id: strawberry.ID) -> Cart | None:
    context = info.context
    decoded = required_id("CartLine", line_id, "cart line")
    return await _cart(context, await context.services.carts.remove_line(await _owner(context), decoded))


async def clear_cart(info: Info) -> Cart | None:
    context = info.context
    return await _cart(context, await context.services.carts.clear(await _owner(context)))
