"""GraphQL types of the cart. What is in a cart is personal data of whoever holds it."""

from __future__ import annotations

import strawberry

from ...carts.service import CartLineView, CartView
from ...storage.tables import CartLine as CartLineRow
from ..catalogue.types import Product
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.money import TaxedMoney
from ..core.personal import personal, personal_input


@strawberry.type
class CartLine:
    id: strawberry.ID
    product: Product | None = personal(CartLineRow.product_id)
    quantity: int | None = personal(CartLineRow.quantity)
    domain_name: str | None = personal(CartLineRow.domain_name)
    total: TaxedMoney | None = personal(CartLineRow.product_id, CartLineRow.quantity)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_view(cls, line: CartLineView, cart: CartView, guard: PrivacyGuard) -> CartLine:
        return cls(**guard.shape_held(cls, cart.customer_id, {  # type: ignore[arg-type]
            "id": encode_id("CartLine", line.id),
            "product": Product.from_row(line.product),
            "quantity": line.quantity,
            "domain_name": line.domain_name,
            "total": TaxedMoney.from_amounts(line.amounts, line.product.currency),
        }))


@strawberry.type
class Cart:
    id: strawberry.ID
    lines: list[CartLine]
    total: TaxedMoney | None = personal(CartLineRow.product_id, CartLineRow.quantity)
    item_count: int | None = personal(CartLineRow.quantity)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_view(cls, cart: CartView, guard: PrivacyGuard) -> Cart:
        return cls(**guard.shape_held(cls, cart.customer_id, {  # type: ignore[arg-type]
            "id": encode_id("Cart", cart.id),
            "lines": [CartLine.from_view(line, cart, guard) for line in cart.lines],
            "total": TaxedMoney.from_amounts(cart.amounts, cart.currency),
            "item_count": cart.item_count,
        }))


@strawberry.input
class AddToCartInput:
    product_id: strawberry.ID = personal_input(CartLineRow.product_id)
    quantity: int = personal_input(CartLineRow.quantity, default=1)
    domain_name: str | None = personal_input(
        CartLineRow.domain_name, default=None,
        description="Required for domain registrations: the domain to register.",
    )


@strawberry.input
class UpdateCartLineInput:
    line_id: strawberry.ID
    quantity: int = personal_input(CartLineRow.quantity)
