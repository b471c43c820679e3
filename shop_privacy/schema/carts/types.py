"""GraphQL types of the cart."""

from __future__ import annotations

import strawberry

from ...carts.service import CartLineView, CartView
from ..catalogue.types import Product
from ..core.ids import encode_id
from ..core.money import TaxedMoney


@strawberry.type
class CartLine:
    id: strawberry.ID
    product: Product
    quantity: int
    domain_name: str | None
    total: TaxedMoney

    @classmethod
    def from_view(cls, line: CartLineView) -> CartLine:
        return cls(
            id=encode_id("CartLine", line.id),
            product=Product.from_row(line.product),
            quantity=line.quantity,
            domain_name=line.domain_name,
            total=TaxedMoney.from_amounts(line.amounts, line.product.currency),
        )


@strawberry.type
class Cart:
    id: strawberry.ID
    lines: list[CartLine]
    total: TaxedMoney
    item_count: int

    @classmethod
    def from_view(cls, cart: CartView) -> Cart:
        return cls(
            id=encode_id("Cart", cart.id),
            lines=[CartLine.from_view(line) for line in cart.lines],
            total=TaxedMoney.from_amounts(cart.amounts, cart.currency),
            item_count=cart.item_count,
        )


@strawberry.input
class AddToCartInput:
    product_id: strawberry.ID
    quantity: int = 1
    domain_name: str | None = strawberry.field(
        default=None, description="Required for domain registrations: the domain to register."
    )


@strawberry.input
class UpdateCartLineInput:
    line_id: strawberry.ID
    quantity: int
