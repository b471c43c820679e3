"""GraphQL types of orders."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry

from ...pricing import vat_of
from ...storage.tables import Order as OrderRow
from ...storage.tables import OrderLine as OrderLineRow
from ..accounts.types import Address
from ..catalogue.types import BillingPeriod, ProductKind
from ..core.connections import Connection
from ..core.context import Context
from ..core.ids import encode_id
from ..core.money import Money, TaxedMoney
from .dataloaders import order_lines


@strawberry.enum
class OrderStatus(enum.Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class PaymentMethod(enum.Enum):
    CARD_STRIPE = "CARD_STRIPE"
    CARD_PAYPAL = "CARD_PAYPAL"
    INVOICE = "INVOICE"
    SWISH = "SWISH"


@strawberry.type
class OrderLine:
    sku: str
    product_name: str
    kind: ProductKind
    billing_period: BillingPeriod
    domain_name: str | None
    quantity: int
    unit_price: TaxedMoney
    vat_rate_basis_points: int
    total: TaxedMoney

    @classmethod
    def from_row(cls, row: OrderLineRow, currency: str) -> OrderLine:
        unit_vat = vat_of(row.unit_price_net_minor, row.vat_rate_basis_points)
        return cls(
            sku=row.sku,
            product_name=row.product_name,
            kind=ProductKind(row.kind),
            billing_period=BillingPeriod(row.billing_period),
            domain_name=row.domain_name,
            quantity=row.quantity,
            unit_price=TaxedMoney(
                net=Money(minor_units=row.unit_price_net_minor, currency=currency),
                vat=Money(minor_units=unit_vat, currency=currency),
                gross=Money(minor_units=row.unit_price_net_minor + unit_vat, currency=currency),
            ),
            vat_rate_basis_points=row.vat_rate_basis_points,
            total=TaxedMoney.of(row.line_net_minor, row.line_vat_minor, currency),
        )


@strawberry.type(description="Who the order was for, as it was when the order was placed.")
class OrderContact:
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    company_name: str | None
    organisation_number: str | None
    address: Address


@strawberry.type
class Order:
    id: strawberry.ID
    number: str
    placed_at: datetime
    status: OrderStatus
    payment_method: PaymentMethod
    payment_reference: str | None = strawberry.field(description="The payment provider's reference.")
    total: TaxedMoney
    contact: OrderContact
    row_id: strawberry.Private[uuid.UUID]
    currency: strawberry.Private[str]

    @strawberry.field
    async def lines(self, info: strawberry.Info[Context, None]) -> list[OrderLine]:
        rows = await order_lines(info.context).load(self.row_id)
        return [OrderLine.from_row(row, self.currency) for row in rows]

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        return cls(
            id=encode_id("Order", row.id),
            number=row.order_number,
            placed_at=row.placed_at,
            status=OrderStatus(row.status),
            payment_method=PaymentMethod(row.payment_method),
            payment_reference=row.payment_reference,
            total=TaxedMoney.of(row.subtotal_net_minor, row.vat_minor, row.currency),
            contact=OrderContact(
                first_name=row.first_name, last_name=row.last_name, email=row.email, phone=row.phone,
                company_name=row.company_name, organisation_number=row.company_org_number,
                address=Address(street=row.address_street, postal_code=row.address_postal_code,
                                city=row.address_city, country=row.address_country),
            ),
            row_id=row.id,
            currency=row.currency,
        )


OrderConnection = Connection[Order]


@strawberry.input
class CheckoutInput:
    payment_method: PaymentMethod
    idempotency_key: str = strawberry.field(
        description="A random string (8–64 of A–Z, a–z, 0–9, _ and -) from the client; a repeated "
        "checkout with the same key returns the same order."
    )
    organisation_number: str | None = strawberry.field(default=None, description="Only for INVOICE.")
    swish_number: str | None = strawberry.field(
        default=None, description="Only for SWISH; defaults to the profile's phone number."
    )
