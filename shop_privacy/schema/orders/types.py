"""GraphQL types of orders. Personal fields are declared from their columns (`personal(...)`)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import strawberry

from ...orders import lifecycle
from ...pricing import vat_of
from ...storage.tables import Order as OrderRow
from ...storage.tables import OrderEvent as OrderEventRow
from ...storage.tables import OrderLine as OrderLineRow
from ..catalogue.types import BillingPeriod, ProductKind
from ..core.connections import Connection
from ..core.context import BaseContext
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.money import Taxed, TaxedMoney, TaxedParts
from ..core.personal import personal, personal_input
from .dataloaders import order_events, order_lines

OrderStatus = strawberry.enum(lifecycle.OrderStatus, name="OrderStatus",
                              description="Where an order is in its lifecycle (see docs/orders.md).")


@strawberry.enum
class PaymentMethod(enum.Enum):
    CARD_STRIPE = "CARD_STRIPE"
    CARD_PAYPAL = "CARD_PAYPAL"
    INVOICE = "INVOICE"
    SWISH = "SWISH"


_LINE_TOTAL = (OrderLineRow.line_net_minor, OrderLineRow.line_vat_minor, OrderLineRow.line_total_minor)


@strawberry.type
class OrderLine:
    sku: str | None = personal(OrderLineRow.sku)
    product_name: str | None = personal(OrderLineRow.product_name)
    kind: ProductKind | None = personal(OrderLineRow.kind)
    billing_period: BillingPeriod | None = personal(OrderLineRow.billing_period)
    domain_name: str | None = personal(OrderLineRow.domain_name)
    quantity: int | None = personal(OrderLineRow.quantity)
    unit_price: TaxedMoney | None = personal(OrderLineRow.unit_price_net_minor, OrderLineRow.vat_rate_basis_points)
    vat_rate_basis_points: int | None = personal(OrderLineRow.vat_rate_basis_points)
    total: TaxedMoney | None = personal(*_LINE_TOTAL)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: Any, currency: str, subject_id: uuid.UUID | None, guard: PrivacyGuard) -> OrderLine:
        """From an `OrderLineRow` or a row of the service's `LINE_VIEW_COLUMNS`."""
        return cls(**guard.shape(cls, subject_id, {  # type: ignore[arg-type]
            name: value(row, currency) for name, value in LINE_VALUES.items()}))


def _unit_price(row: Any, currency: str) -> TaxedParts:
    return row.unit_price_net_minor, vat_of(row.unit_price_net_minor, row.vat_rate_basis_points), currency


# Each field of an order line from its row and the order's currency: `OrderLine.from_row`, and a compiled
# plan writing the viewer's own lines straight from their rows (schema/compiled_rows.py), alike.
LINE_VALUES: dict[str, Callable[[Any, str], Any]] = {
    "sku": lambda row, _: row.sku,
    "product_name": lambda row, _: row.product_name,
    "kind": lambda row, _: ProductKind(row.kind),
    "billing_period": lambda row, _: BillingPeriod(row.billing_period),
    "domain_name": lambda row, _: row.domain_name,
    "quantity": lambda row, _: row.quantity,
    "unit_price": Taxed(_unit_price),
    "vat_rate_basis_points": lambda row, _: row.vat_rate_basis_points,
    "total": Taxed(lambda row, currency: (row.line_net_minor, row.line_vat_minor, currency)),
}


OrderTransition = strawberry.enum(lifecycle.Transition, name="OrderTransition")


@strawberry.type(description="One change of the order's state, and who made it: a staff member, or a payment "
                             "provider's event.")
class OrderEvent:
    transition: OrderTransition | None = personal(OrderEventRow.transition)  # type: ignore[valid-type]
    from_status: OrderStatus | None = personal(OrderEventRow.from_status)  # type: ignore[valid-type]
    to_status: OrderStatus | None = personal(OrderEventRow.to_status)  # type: ignore[valid-type]
    occurred_at: datetime | None = personal(OrderEventRow.occurred_at)
    staff_member_id: strawberry.ID | None = strawberry.field(description="The staff member who made the change.")
    provider: str | None = strawberry.field(description="The payment provider whose event made the change.")
    provider_event_id: str | None = personal(OrderEventRow.provider_event_id)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: OrderEventRow, subject_id: uuid.UUID | None, guard: PrivacyGuard) -> OrderEvent:
        return cls(**guard.shape(cls, subject_id, {  # type: ignore[arg-type]
            "transition": lifecycle.Transition(row.transition),
            "from_status": lifecycle.OrderStatus(row.from_status),
            "to_status": lifecycle.OrderStatus(row.to_status),
            "occurred_at": row.occurred_at,
            "staff_member_id": encode_id("StaffMember", row.staff_user_id) if row.staff_user_id else None,
            "provider": row.provider,
            "provider_event_id": row.provider_event_id,
        }))


@strawberry.type
class OrderAddress:
    street: str | None = personal(OrderRow.address_street)
    postal_code: str | None = personal(OrderRow.address_postal_code)
    city: str | None = personal(OrderRow.address_city)
    country: str | None = personal(OrderRow.address_country)
    privacy: strawberry.Private[RowPrivacy | None] = None


@strawberry.type(description="Who the order was for, as it was when the order was placed.")
class OrderContact:
    first_name: str | None = personal(OrderRow.first_name)
    last_name: str | None = personal(OrderRow.last_name)
    email: str | None = personal(OrderRow.email)
    phone: str | None = personal(OrderRow.phone)
    company_name: str | None = personal(OrderRow.company_name)
    organisation_number: str | None = personal(OrderRow.company_org_number)
    address: OrderAddress
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: OrderRow, guard: PrivacyGuard) -> OrderContact:
        subject = row.customer_id
        return cls(**guard.shape(cls, subject, {  # type: ignore[arg-type]
            "first_name": row.first_name, "last_name": row.last_name, "email": row.email, "phone": row.phone,
            "company_name": row.company_name, "organisation_number": row.company_org_number,
            "address": OrderAddress(**guard.shape(OrderAddress, subject, {
                "street": row.address_street, "postal_code": row.address_postal_code,
                "city": row.address_city, "country": row.address_country,
            })),
        }))


@strawberry.type
class Order:
    id: strawberry.ID
    customer_id: strawberry.ID | None = strawberry.field(
        description="The customer the order belongs to; null once the customer has been erased."
    )
    number: str | None = personal(OrderRow.order_number)
    placed_at: datetime | None = personal(OrderRow.placed_at)
    status: OrderStatus | None = personal(OrderRow.status)  # type: ignore[valid-type]
    payment_method: PaymentMethod | None = personal(OrderRow.payment_method)
    payment_reference: str | None = personal(OrderRow.payment_reference,
                                             description="The payment provider's reference.")
    total: TaxedMoney | None = personal(OrderRow.subtotal_net_minor, OrderRow.vat_minor, OrderRow.total_minor,
                                        OrderRow.currency)
    contact: OrderContact
    privacy: strawberry.Private[RowPrivacy | None] = None
    row_id: strawberry.Private[uuid.UUID]
    subject_id: strawberry.Private[uuid.UUID | None]
    currency: strawberry.Private[str]
    guard: strawberry.Private[PrivacyGuard]
    # The lines when they were read with the page: then `lines` needs neither a dataloader nor an await.
    line_rows: strawberry.Private[Sequence[Any] | None] = None

    @strawberry.field
    def lines(self, info: strawberry.Info[BaseContext, None]) -> list[OrderLine]:
        if self.line_rows is not None:
            return self._lines(self.line_rows)
        # graphql-core awaits what a resolver returns when it is awaitable.
        return cast(list[OrderLine], self._load_lines(info.context))

    async def _load_lines(self, context: BaseContext) -> list[OrderLine]:
        return self._lines(await order_lines(context).load(self.row_id))

    def _lines(self, rows: Sequence[Any]) -> list[OrderLine]:
        return [OrderLine.from_row(row, self.currency, self.subject_id, self.guard) for row in rows]

    @strawberry.field(description="The order's changes of state, oldest first.")
    async def history(self, info: strawberry.Info[BaseContext, None]) -> list[OrderEvent]:
        rows = await order_events(info.context).load(self.row_id)
        return [OrderEvent.from_row(row, self.subject_id, self.guard) for row in rows]

    @classmethod
    def from_row(cls, row: Any, guard: PrivacyGuard, line_rows: Sequence[Any] | None = None) -> Order:
        """From an `OrderRow` or a row of the service's `ORDER_VIEW_COLUMNS`; `line_rows` when read with it."""
        values = {name: value(row) for name, value in ORDER_VALUES.items()}
        return cls(**guard.shape(cls, row.customer_id, {  # type: ignore[arg-type]
            **values,
            "contact": OrderContact.from_row(row, guard),
            "row_id": row.id,
            "subject_id": row.customer_id,
            "currency": row.currency,
            "guard": guard,
            "line_rows": line_rows,
        }))


# Each field of an order worked out from its row alone (`contact` and `lines` are objects of their own):
# `Order.from_row`, and a compiled plan writing the viewer's own orders straight from their rows, alike.
ORDER_VALUES: dict[str, Callable[[Any], Any]] = {
    "id": lambda row: encode_id("Order", row.id),
    "customer_id": lambda row: encode_id("Customer", row.customer_id) if row.customer_id else None,
    "number": lambda row: row.order_number,
    "placed_at": lambda row: row.placed_at,
    "status": lambda row: OrderStatus(row.status),
    "payment_method": lambda row: PaymentMethod(row.payment_method),
    "payment_reference": lambda row: row.payment_reference,
    "total": Taxed(lambda row: (row.subtotal_net_minor, row.vat_minor, row.currency)),
}


OrderConnection = Connection[Order]


@strawberry.input
class CheckoutInput:
    payment_method: PaymentMethod
    idempotency_key: str = strawberry.field(
        description="A random string (8–64 of A–Z, a–z, 0–9, _ and -) from the client; a repeated "
        "checkout with the same key returns the same order."
    )
    organisation_number: str | None = personal_input(
        OrderRow.company_org_number, default=None,
        description="Only for INVOICE: refused with any other payment method.",
    )
    swish_number: str | None = personal_input(
        OrderRow.phone, default=None, description="Only for SWISH; defaults to the profile's phone number."
    )
