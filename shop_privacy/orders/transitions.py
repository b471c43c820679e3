"""Moving stored orders through their lifecycle (paid, delivered, cancelled, refunded, payment failed), by
staff or by a payment provider's event, each change recorded with who made it; and, once an order is
settled, the customer's erasure it held completes right then (P13, P24)."""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..disclosures.service import Disclosures
from ..errors import BadUserInput, NotFound
from ..payments.callbacks import PaymentEvent
from ..payments.providers import PROVIDER_OF_METHOD, PaymentMethod
from ..rights.requests import RequestKind, RequestStatus
from ..rights.service import Rights
from ..storage.database import Database
from ..storage.locks import lock_customer, lock_order
from ..storage.tables import Order, OrderEvent, SubjectRequest
from ..storage.types import utc_now
from .domain_registration import register_domains
from .lifecycle import IllegalTransition, OrderStatus, Transition, next_status

logger = logging.getLogger("shop_privacy.orders")

# The payment methods each provider's events may change.
PROVIDER_METHODS: dict[str, frozenset[PaymentMethod]] = {
    provider: frozenset({method}) for method, provider in PROVIDER_OF_METHOD.items()}


@dataclass(frozen=True)
class Actor:
    """Who changes an order: a staff member, or a payment provider's event. Ids only, never a person's data."""

    staff_id: uuid.UUID | None = None
    provider: str | None = None
    event_id: str | None = None

    @classmethod
    def staff(cls, staff_id: uuid.UUID) -> Actor:
        return cls(staff_id=staff_id)

    @classmethod
    def provider_event(cls, provider: str, event_id: str) -> Actor:
        return cls(provider=provider, event_id=event_id)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the provider's event had already been applied: nothing changed
    IGNORED = "ignored"  # a failure reported for an order no longer waiting for its payment: nothing to do


@dataclass(frozen=True)
class Changed:
    order: Order
    outcome: Outcome
    erasure: SubjectRequest | None = None  # the customer's held erasure, as it is after running again


class OrderTransitions:
    def __init__(self, db: Database, rights: Rights, disclosures: Disclosures) -> None:
        self._db = db
        self._rights = rights
        self._disclosures = disclosures

    async def by_staff(self, staff_id: uuid.UUID, order_id: uuid.UUID, transition: Transition) -> Changed:
        if transition is Transition.FAIL:
            raise BadUserInput("Only the payment provider reports a failed payment.", reason="not_allowed")
        return await self._change(order_id, transition, Actor.staff(staff_id), None)

    async def payment_event(self, event: PaymentEvent) -> Changed:
        """Apply a provider's event once, however often it arrives; the amount and currency it reports
        must be the order's."""
        methods = [m.value for m in PROVIDER_METHODS.get(event.provider, frozenset())]
        async with self._db.read() as session:
            order_id = (await session.exec(select(Order.id).where(
                col(Order.payment_reference) == event.reference, col(Order.payment_method).in_(methods)))).first()
        if order_id is None:
            raise NotFound("No order has this payment reference.", reason="unknown_order")
        transition = Transition.PAY if event.succeeded else Transition.FAIL
        return await self._change(order_id, transition, Actor.provider_event(event.provider, event.event_id), event)

    async def _change(self, order_id: uuid.UUID, transition: Transition, actor: Actor,
                      event: PaymentEvent | None) -> Changed:
        async with self._db.transaction() as session:
            # The customer first (the order every writer takes, and the lock an erasure holds while it
            # checks the customer's orders), then the order: a change and an erasure take turns, so an
            # erasure either sees the order settled or is already on hold when the change looks for it.
            found = (await session.exec(select(Order.id, Order.customer_id).where(col(Order.id) == order_id))).first()
            if found is None:
                raise NotFound("No such order.", reason="unknown_order")
            if found[1] is not None:
                await lock_customer(session, found[1])
            order = await lock_order(session, order_id)
            if order is None:
                raise NotFound("No such order.", reason="unknown_order")
            status = OrderStatus(order.status)
            refused: IllegalTransition | None = None
            try:
                target = next_status(status, PaymentMethod(order.payment_method), transition)
            except IllegalTransition as error:
                target, refused = status, error
            if refused is not None and transition is Transition.FAIL:
                # Providers' events may arrive out of order: a failed attempt reported after the payment
                # went through (or after the order ended) changes nothing, and is no error to retry.
                return Changed(order, Outcome.IGNORED)
            now = utc_now()
            event_row = {"id": uuid.uuid4(), "order_id": order.id, "transition": transition.value,
                         "from_status": status.value, "to_status": target.value, "occurred_at": now,
                         "staff_user_id": actor.staff_id, "provider": actor.provider,
                         "provider_event_id": actor.event_id}
            # A provider's event is claimed by the insert that records it (the unique constraint decides,
            # also between two deliveries at once); one already recorded changes nothing again. A refused
            # change rolls its claim back with everything else.
            if not await _claim(session, event_row):
                logger.info("order change duplicate order_id=%s provider=%s event_id=%s", order.id,
                            actor.provider, actor.event_id)
                return Changed(order, Outcome.DUPLICATE)
            if event is not None and (event.amount_minor, event.currency.upper()) != (order.total_minor,
                                                                                       order.currency.upper()):
                raise BadUserInput("The amount or currency paid is not the order's.", reason="amount_mismatch")
            if refused is not None:
                raise refused
            order.status, order.updated_at = target.value, now
            session.add(order)
            if transition is Transition.DELIVER:
                # Delivering a domain is registering it (P08): with the order's change or not at all.
                await register_domains(session, self._disclosures, order)
            customer_id = order.customer_id
        logger.info("order changed order_id=%s transition=%s from=%s to=%s staff_id=%s provider=%s event_id=%s",
                    order.id, transition.value, status.value, target.value, actor.staff_id, actor.provider,
                    actor.event_id)
        erasure = None
        if customer_id is not None:
            erasure = await self._resume_held_erasure(customer_id)
        return Changed(order, Outcome.APPLIED, erasure)

    async def _resume_held_erasure(self, customer_id: uuid.UUID) -> SubjectRequest | None:
        """The customer's erasure waiting for their orders to settle runs again, through the rights service:
        it checks, under the customer's lock, whether any order still holds it. Settled, it completes and the
        customer is mailed; otherwise it keeps waiting with its reason brought up to date."""
        async with self._db.read() as session:
            request = await self._rights.queue.open_of(session, customer_id, RequestKind.ERASURE)
        if request is None or request.status != RequestStatus.ON_HOLD.value:
            return None
        try:
            return await self._rights.run(request.id)
        except Exception as error:  # noqa: BLE001 - the order's change is committed whatever happens here
            # The erasure stays on hold, and the retention sweep resumes it on its next run.
            logger.warning("held erasure not resumed request_id=%s customer_id=%s error=%s", request.id,
                           customer_id, type(error).__name__)
            return None


async def _claim(session: AsyncSession, values: dict[str, object]) -> bool:
    """Record the change; for a provider's event, only if that event is not recorded yet."""
    if values["provider"] is None:
        session.add(OrderEvent(**values))
        return True
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert(OrderEvent) if dialect == "postgresql" else sqlite_insert(OrderEvent)
    statement = insert.values(**values).on_conflict_do_nothing(
        index_elements=["provider", "provider_event_id"]).returning(col(OrderEvent.id))
    return (await session.exec(statement)).first() is not None  # type: ignore[call-overload]
