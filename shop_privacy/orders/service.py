"""Checkout (cart → order, atomically, once per idempotency key) and the customer's order history."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, bindparam, type_coerce
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import NullType
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..analytics.events import purchase_event
from ..carts.service import CartService, CartView
from ..disclosures.service import Disclosures
from ..errors import BadUserInput, ServiceUnavailable, Unauthenticated
from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..payments.providers import (
    PROVIDER_OF_METHOD,
    PaymentFailed,
    PaymentMethod,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
)
from ..storage.database import Database, core_rows
from ..storage.locks import lock_customer
from ..storage.tables import Cart, Customer, Order, OrderEvent, OrderLine
from ..storage.types import utc_now
from ..tokens import Signer
from ..validation import ClientKey, Command, OrgNumber, SwedishMobile, is_swedish_mobile, parse
from .lifecycle import OrderStatus, Transition
from .numbers import new_order_number

logger = logging.getLogger("shop_privacy.orders")

_CURSOR = "order"
_NEWEST_FIRST = (col(Order.placed_at).desc(), col(Order.id).desc())


def _before(placed_at: Any, order_id: Any) -> Any:
    """Orders after (placed_at, id) in newest-first order: keyset pagination."""
    return (col(Order.placed_at) < placed_at) | ((col(Order.placed_at) == placed_at) & (col(Order.id) < order_id))


def _position_after(after: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (placed_at, id) an order cursor stands for."""
    if after is None:
        return None
    placed_at, order_id = decode_cursor(_CURSOR, after, datetime.fromisoformat, uuid.UUID)
    if placed_at.tzinfo is None:
        raise BadUserInput("The cursor is not valid.", reason="invalid_cursor")
    return placed_at, order_id


def _order_cursor(order: Any) -> str:
    return encode_cursor(_CURSOR, order.placed_at.isoformat(), str(order.id))


_PAYMENT = frozenset({"order_fulfilment", "payment", "fraud_prevention", "customer_service"})
# What a checkout's personal inputs may serve, by payment method (minimisation on input, P02, P05).
CHECKOUT_PURPOSES: dict[PaymentMethod, frozenset[str]] = {
    PaymentMethod.CARD_STRIPE: _PAYMENT,
    PaymentMethod.CARD_PAYPAL: _PAYMENT,
    PaymentMethod.SWISH: _PAYMENT,
    PaymentMethod.INVOICE: _PAYMENT | {"invoicing", "bookkeeping"},
}


# Who receives the payer's details for each payment method, and why.
PAYMENT_RECIPIENTS: dict[PaymentMethod, tuple[str, str]] = {
    PaymentMethod.CARD_STRIPE: ("stripe", "payment"),
    PaymentMethod.CARD_PAYPAL: ("paypal", "payment"),
    PaymentMethod.SWISH: ("swish", "payment"),
    PaymentMethod.INVOICE: ("fortnox", "invoicing"),
}


# 8–64 of A–Z, a–z, 0–9, "_" and "-"; kept only as a keyed hash (`OrderService._key_hash`).
IdempotencyKey = ClientKey


# What an order's and a line's view read (`schema/orders/types.py`): the history is read as Core rows of
# these columns, without building ORM objects (nothing in a read is changed or lazily loaded). Each Row
# answers these names as attributes, as the model instance does.
ORDER_VIEW_COLUMNS = tuple(col(c) for c in (
    Order.id, Order.customer_id, Order.order_number, Order.status, Order.payment_method, Order.payment_reference,
    Order.currency, Order.subtotal_net_minor, Order.vat_minor, Order.total_minor, Order.placed_at,
    Order.first_name, Order.last_name, Order.email, Order.phone, Order.company_name, Order.company_org_number,
    Order.address_street, Order.address_postal_code, Order.address_city, Order.address_country,
))
LINE_VIEW_COLUMNS = tuple(col(c) for c in (
    OrderLine.sku, OrderLine.product_name, OrderLine.kind, OrderLine.billing_period,
    OrderLine.domain_name, OrderLine.quantity, OrderLine.unit_price_net_minor, OrderLine.vat_rate_basis_points,
    OrderLine.line_net_minor, OrderLine.line_vat_minor, OrderLine.line_total_minor,
))
# Statements every order page runs, built once with bound parameters (`core_rows`).
# A customer's page of orders, newest first: the first page [False] and a page after a cursor [True].
_MY_ORDERS = {
    after: core_select(*ORDER_VIEW_COLUMNS)
    .where(col(Order.customer_id) == bindparam("customer_id"),
           *((_before(bindparam("placed_at"), bindparam("after_id")),) if after else ()))
    .order_by(*_NEWEST_FIRST).limit(bindparam("limit"))
    for after in (False, True)
}
# Some orders' lines, each order's in their order (`lines_by_order`): the order ids one expanding parameter,
# and the order id first as the driver gives it.
_LINES_QUERY = (
    core_select(type_coerce(col(OrderLine.order_id), NullType()).label("order_key"), *LINE_VIEW_COLUMNS)
    .where(col(OrderLine.order_id).in_(bindparam("order_ids", expanding=True)))
    .order_by(col(OrderLine.order_id), col(OrderLine.position))
)


@dataclass(frozen=True)
class OrderSearch:
    customer_id: uuid.UUID | None = None
    status: str | None = None
    placed_from: datetime | None = None
    placed_before: datetime | None = None


class Checkout(Command):
    payment_method: PaymentMethod
    idempotency_key: IdempotencyKey
    organisation_number: OrgNumber | None = None
    swish_number: SwedishMobile | None = None



def idempotency_key_hash(signer: Signer, key: str) -> str:
    """A checkout's idempotency key as stored: a keyed hash, so whatever the client put in it (a card
    number, by mistake or on purpose) never reaches the database or a backup (P06)."""
    return signer.keyed_hash("idempotency_key", key)

class OrderService:
    def __init__(
        self,
        db: Database,
        carts: CartService,
        providers: Mapping[PaymentMethod, PaymentProvider],
        disclosures: Disclosures,
        max_page_size: int,
        signer: Signer,
    ) -> None:
        self._signer = signer
        self._db = db
        self._carts = carts
        self._providers = providers
        self._disclosures = disclosures
        self._max_page_size = max_page_size

    # History

    async def list_orders(
        self, session: AsyncSession, customer_id: uuid.UUID, *, first: int, after: str | None
    ) -> Page[Row[Any]]:
        """The customer's orders, newest first, as rows of `ORDER_VIEW_COLUMNS` (every order page runs it)."""
        first = check_page_size(first, self._max_page_size)
        parameters: dict[str, Any] = {"customer_id": customer_id, "limit": first + 1}
        position = _position_after(after)
        if position is not None:
            parameters["placed_at"], parameters["after_id"] = position
        rows = await core_rows(session, _MY_ORDERS[position is not None], parameters)
        return page_of(rows, first, after, _order_cursor)

    async def staff_list(self, session: AsyncSession, search: OrderSearch, *, first: int,
                         after: str | None) -> Page[Order]:
        """Orders for staff, filtered; what of them they may read is decided field by field."""
        query = select(Order)
        if search.customer_id is not None:
            query = query.where(Order.customer_id == search.customer_id)
        if search.status is not None:
            query = query.where(Order.status == search.status)
        if search.placed_from is not None:
            query = query.where(col(Order.placed_at) >= search.placed_from)
        if search.placed_before is not None:
            query = query.where(col(Order.placed_at) < search.placed_before)
        return await self._page(session, query, first, after)

    async def staff_get(self, session: AsyncSession, order_id: uuid.UUID) -> Order | None:
        return await session.get(Order, order_id)

    async def _page(self, session: AsyncSession, query: Any, first: int, after: str | None) -> Page[Any]:
        """Newest first, keyset-paginated on (placed_at, id)."""
        first = check_page_size(first, self._max_page_size)
        position = _position_after(after)
        if position is not None:
            query = query.where(_before(*position))
        query = query.order_by(*_NEWEST_FIRST).limit(first + 1)
        rows = list((await session.exec(query)).all())
        return page_of(rows, first, after, _order_cursor)

    async def get_order(self, session: AsyncSession, customer_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        """The order, only if it is this customer's: another's answers exactly like a missing one."""
        order = await session.get(Order, order_id)
        return order if order is not None and order.customer_id == customer_id else None

    async def lines_by_order(
        self, session: AsyncSession, order_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[Row[Any]]]:
        """Each order's lines in their order, as rows of `LINE_VIEW_COLUMNS` (after the order id as the driver
        gives it: it is made a UUID once per order, not once per row, about 0.3 ms on a page of 250 lines on
        SQLite, where it is text)."""
        wanted = list(set(order_ids))
        if not wanted:
            return {}
        rows = await core_rows(session, _LINES_QUERY, {"order_ids": wanted})
        return {key if isinstance(key, uuid.UUID) else uuid.UUID(key): list(group)
                for key, group in groupby(rows, key=itemgetter(0))}

    async def events_by_order(
        self, session: AsyncSession, order_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderEvent]]:
        """Each order's changes of state, oldest first."""
        return await _by_order(session, OrderEvent, order_ids, col(OrderEvent.occurred_at), col(OrderEvent.id))

    # Checkout

    async def checkout(self, customer_id: uuid.UUID, data: dict[str, object], client_ip: str | None) -> Order:
        command = parse(Checkout, data)
        method = command.payment_method
        # Minimisation (P05): the org number only with an invoice, the Swish number only with Swish.
        if command.organisation_number and method is not PaymentMethod.INVOICE:
            raise BadUserInput("An organisation number is only needed for invoice payment.",
                               reason="not_needed", field="organisationNumber")
        if command.swish_number and method is not PaymentMethod.SWISH:
            raise BadUserInput("A Swish number is only needed for Swish payment.",
                               reason="not_needed", field="swishNumber")
        provider = self._providers.get(method)
        if provider is None:
            raise ServiceUnavailable("This payment method is not available.", reason="payment_method_unavailable")

        try:
            async with self._db.transaction() as session:
                # Lock first (the customer, then the cart: the order every writer takes), then look
                # for the key: a concurrent double submit waits here and then finds the order the
                # first one placed; an erasure waits too, or has already removed the customer.
                customer = await lock_customer(session, customer_id)
                if customer is None:
                    raise Unauthenticated()
                cart = await self._carts.lock_for_checkout(session, customer_id)
                existing = await self._by_key(session, customer_id, command.idempotency_key)
                if existing is not None:
                    return existing
                order = await self._place(session, customer, cart, command, provider, client_ip)
        except IntegrityError:
            # A concurrent double submit with the same key won the race: answer with its order.
            async with self._db.transaction() as session:
                existing = await self._by_key(session, customer_id, command.idempotency_key)
            if existing is None:
                raise
            return existing
        logger.info("order placed order_id=%s customer_id=%s method=%s", order.id, customer_id, method)
        return order

    def _key_hash(self, key: str) -> str:
        return idempotency_key_hash(self._signer, key)

    async def _by_key(self, session: AsyncSession, customer_id: uuid.UUID, key: str) -> Order | None:
        query = select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == self._key_hash(key))
        return (await session.exec(query)).first()

    async def _place(
        self, session: AsyncSession, customer: Customer, cart: Cart | None, command: Checkout,
        provider: PaymentProvider, client_ip: str | None,
    ) -> Order:
        customer_id = customer.id
        view = await self._carts.priced(session, cart) if cart is not None else None
        if cart is None or view is None or not view.lines:
            raise BadUserInput("Your cart is empty.", reason="empty_cart")
        inactive = [line.product.sku for line in view.lines if not line.product.active]
        if inactive:
            raise BadUserInput("Some products in the cart can no longer be ordered.", reason="product_unavailable")
        method = command.payment_method
        _require_contact(customer)
        org_number = company_name = None
        if method is PaymentMethod.INVOICE:
            org_number = command.organisation_number or customer.company_org_number
            company_name = customer.company_name
            if not org_number or not company_name:
                raise BadUserInput("Invoice payment needs the company name and organisation number.",
                                   reason="invoice_details_missing")
        phone = customer.phone
        if method is PaymentMethod.SWISH:
            phone = command.swish_number or customer.phone
            if not phone or not is_swedish_mobile(phone):
                raise BadUserInput("Swish needs a Swedish mobile number.", reason="swish_number_missing")

        placed_at = utc_now()
        order = Order(
            customer_id=customer_id,
            order_number=new_order_number(placed_at),
            idempotency_key=self._key_hash(command.idempotency_key),
            status=OrderStatus.PENDING_PAYMENT.value,
            payment_method=method.value,
            currency=view.currency,
            subtotal_net_minor=view.amounts.net,
            vat_minor=view.amounts.vat,
            total_minor=view.amounts.gross,
            placed_at=placed_at,
            updated_at=placed_at,
            first_name=customer.first_name,
            last_name=customer.last_name,
            email=customer.email,
            phone=phone,
            company_name=customer.company_name,
            company_org_number=org_number,
            address_street=customer.address_street,
            address_postal_code=customer.address_postal_code,
            address_city=customer.address_city,
            address_country=customer.address_country,
            ip_address=client_ip,
        )
        # The payer's details must be allowed to go to the provider (e.g. not restricted, Art. 18) before a
        # payment is started there: a refusal after it would leave a payment without an order.
        recipient, purpose = PAYMENT_RECIPIENTS[method]
        await self._disclosures.check(session, recipient, customer_id=customer_id, purpose=purpose)
        try:
            started = await provider.start_payment(
                PaymentRequest(method, order.order_number, order.total_minor, order.currency)
            )
        except PaymentFailed:
            raise ServiceUnavailable("The payment could not be started; nothing was charged.",
                                     reason="payment_failed") from None
        order.payment_reference = started.reference
        session.add(order)
        if started.outcome is PaymentOutcome.AUTHORISED:
            # Paid at checkout: the order's history shows the payment like one a provider reports later.
            order.status = OrderStatus.PAID.value
            session.add(OrderEvent(order_id=order.id, transition=Transition.PAY.value,
                                   from_status=OrderStatus.PENDING_PAYMENT.value, to_status=order.status,
                                   occurred_at=placed_at, provider=PROVIDER_OF_METHOD.get(method)))
        session.add_all(_order_lines(order.id, view))
        await self._carts.empty(session, cart)
        await session.flush()
        # The payment provider (or, for an invoice, the invoicing service) gets the payer's details
        # (P04, P05): through the disclosure registry, exactly what it is declared for, logged.
        await self._disclosures.disclose(session, recipient, customer_id=customer_id, purpose=purpose, row=order,
                                         reference=order.order_number)
        await purchase_event(session, self._disclosures, order)
        return order


async def _by_order(session: AsyncSession, model: type[OrderEvent], order_ids: Iterable[uuid.UUID],
                    *order_by: Any) -> dict[uuid.UUID, list[Any]]:
    """The rows of `model` that belong to each of the orders, in one query, each order's in `order_by`."""
    wanted = list(set(order_ids))
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if wanted:
        query = select(model).where(col(model.order_id).in_(wanted)).order_by(col(model.order_id), *order_by)
        for row in (await session.exec(query)).all():
            grouped[row.order_id].append(row)
    return grouped


def _require_contact(customer: Customer) -> None:
    missing = [
        name for name, value in (
            ("phone", customer.phone), ("address.street", customer.address_street),
            ("address.postalCode", customer.address_postal_code), ("address.city", customer.address_city),
        ) if not value
    ]
    if missing:
        raise BadUserInput("Complete your profile before checking out: " + ", ".join(missing) + ".",
                           reason="profile_incomplete", missing=missing)


def _order_lines(order_id: uuid.UUID, cart: CartView) -> list[OrderLine]:
    return [
        OrderLine(
            order_id=order_id,
            position=position,
            product_id=line.product.id,
            sku=line.product.sku,
            product_name=line.product.name,
            kind=line.product.kind,
            billing_period=line.product.billing_period,
            domain_name=line.domain_name,
            quantity=line.quantity,
            unit_price_net_minor=line.product.unit_price_net_minor,
            vat_rate_basis_points=line.product.vat_rate_basis_points,
            line_net_minor=line.amounts.net,
            line_vat_minor=line.amounts.vat,
            line_total_minor=line.amounts.gross,
        )
        for position, line in enumerate(cart.lines)
    ]
