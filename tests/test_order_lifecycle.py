"""The order lifecycle (P13, P24): staff mark orders paid, delivered, cancelled or refunded under a purpose,
each change recorded with who made it; illegal changes are refused whole; and an erasure an open order
held completes the moment the order is settled."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.errors import Conflict
from shop_privacy.orders.lifecycle import OrderStatus, Transition, holds_erasure, next_status
from shop_privacy.payments.providers import PaymentMethod
from shop_privacy.rights.requests import Channel, RequestKind
from shop_privacy.rights.service import report_of
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import AccessLogEntry, Customer, Order, OrderEvent, SubjectRequest

from .helpers import Outbox, StorefrontClient, create_customer, staff_client
from .rights_fixtures import seed_everything

pytestmark = pytest.mark.anyio

_HISTORY = "history { transition fromStatus toStatus staffMemberId provider providerEventId }"


def change(mutation: str, purpose: str) -> str:
    return f"""mutation($id: ID!) @purpose(use: {purpose}) {{ {mutation}(id: $id) {{
      id status customerId contact {{ email }} {_HISTORY} }} }}"""


MARK_PAID = change("markOrderPaid", "BOOKKEEPING")
MARK_DELIVERED = change("markOrderDelivered", "ORDER_FULFILMENT")
CANCEL = change("cancelOrder", "ORDER_FULFILMENT")
REFUND = change("refundOrder", "BOOKKEEPING")


async def place_order(services: Services, customer_id: uuid.UUID | None, method: str, status: str = "PENDING_PAYMENT",
                      *, reference: str | None = None, total_minor: int = 19875) -> uuid.UUID:
    order = Order(customer_id=customer_id, order_number=f"SP-T-{uuid.uuid4().hex[:10]}",
                  idempotency_key=f"key-{uuid.uuid4().hex[:12]}", status=status, payment_method=method,
                  payment_reference=reference or f"ref-{uuid.uuid4().hex[:12]}", currency="SEK",
                  subtotal_net_minor=total_minor * 4 // 5, vat_minor=total_minor - total_minor * 4 // 5,
                  total_minor=total_minor, email="kund@exempel.se", first_name="Anna")
    async with services.db.transaction() as session:
        session.add(order)
    return order.id


async def status_of(services: Services, order_id: uuid.UUID) -> tuple[str, int]:
    async with services.db.read() as session:
        order = await session.get(Order, order_id)
        events = (await session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id))).all()
    assert order is not None
    return order.status, len(events)


async def erasure_of(services: Services, customer_id: uuid.UUID) -> SubjectRequest:
    async with services.db.read() as session:
        request = (await session.exec(select(SubjectRequest).where(
            SubjectRequest.customer_id == customer_id, SubjectRequest.kind == "erasure"))).one()
    return request


async def request_erasure(services: Services, customer_id: uuid.UUID) -> SubjectRequest:
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, customer_id, RequestKind.ERASURE, Channel.EMAIL)
    return await services.rights.run(request.id)


def _gid(order_id: uuid.UUID) -> str:
    return encode_id("Order", order_id)


# The rules


@pytest.mark.policy("P13")
@pytest.mark.parametrize(("status", "method", "transition", "expected"), [
    ("PENDING_PAYMENT", "CARD_STRIPE", "pay", "PAID"),
    ("PENDING_PAYMENT", "SWISH", "fail", "PAYMENT_FAILED"),
    ("PAYMENT_FAILED", "CARD_PAYPAL", "pay", "PAID"),
    ("PAID", "CARD_STRIPE", "deliver", "FULFILLED"),
    ("PENDING_PAYMENT", "INVOICE", "deliver", "DELIVERED_UNPAID"),
    ("DELIVERED_UNPAID", "INVOICE", "pay", "FULFILLED"),
    ("PENDING_PAYMENT", "INVOICE", "cancel", "CANCELLED"),
    ("PAYMENT_FAILED", "SWISH", "cancel", "CANCELLED"),
    ("PAID", "SWISH", "refund", "REFUNDED"),
    ("FULFILLED", "CARD_PAYPAL", "refund", "REFUNDED"),
    # Refused: no delivery before payment but for invoices, no cancelling after delivery (or payment),
    # no refund before payment, nothing after the end.
    ("PENDING_PAYMENT", "CARD_STRIPE", "deliver", None),
    ("PENDING_PAYMENT", "SWISH", "deliver", None),
    ("PENDING_PAYMENT", "CARD_PAYPAL", "deliver", None),
    ("FULFILLED", "INVOICE", "cancel", None),
    ("DELIVERED_UNPAID", "INVOICE", "cancel", None),
    ("PAID", "CARD_STRIPE", "cancel", None),
    ("PENDING_PAYMENT", "INVOICE", "refund", None),
    ("DELIVERED_UNPAID", "INVOICE", "refund", None),
    ("PAID", "CARD_STRIPE", "pay", None),
    ("PAID", "CARD_STRIPE", "fail", None),
    ("CANCELLED", "INVOICE", "pay", None),
    ("REFUNDED", "CARD_STRIPE", "deliver", None),
])
def test_p13_an_order_moves_only_along_its_lifecycle(status: str, method: str, transition: str,
                                                     expected: str | None) -> None:
    current, by = OrderStatus(status), PaymentMethod(method)
    if expected is None:
        with pytest.raises(Conflict) as refused:
            next_status(current, by, Transition(transition))
        assert refused.value.details["reason"] == "illegal_transition"
    else:
        assert next_status(current, by, Transition(transition)) is OrderStatus(expected)


@pytest.mark.policy("P24")
def test_p24_only_open_orders_hold_an_erasure() -> None:
    holding = {s.value for s in OrderStatus if holds_erasure(s)}
    assert holding == {"PENDING_PAYMENT", "PAID", "DELIVERED_UNPAID"}


# Staff mutations


@pytest.mark.policy("P13")
async def test_p13_staff_changes_are_recorded_with_who_made_them_and_in_the_access_log(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_id = await place_order(services, customer_id, "INVOICE")
    accounting = await staff_client(app, services, "accounting")
    fulfilment = await staff_client(app, services, "fulfilment")

    delivered = (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(order_id)})).ok()["markOrderDelivered"]
    assert delivered["status"] == "DELIVERED_UNPAID"  # an invoice order is delivered before it is paid
    paid = (await accounting.gql(MARK_PAID, {"id": _gid(order_id)})).ok()["markOrderPaid"]
    assert paid["status"] == "FULFILLED"
    history = paid["history"]
    assert [(h["transition"], h["fromStatus"], h["toStatus"]) for h in history] == [
        ("DELIVER", "PENDING_PAYMENT", "DELIVERED_UNPAID"), ("PAY", "DELIVERED_UNPAID", "FULFILLED")]
    assert all(h["staffMemberId"] and h["provider"] is None and h["providerEventId"] is None for h in history)
    assert history[0]["staffMemberId"] != history[1]["staffMemberId"]

    async with services.db.read() as session:
        events = (await session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                     .order_by(col(OrderEvent.occurred_at)))).all()
        logged = (await session.exec(select(AccessLogEntry).where(AccessLogEntry.subject_id == customer_id)
                                     .order_by(col(AccessLogEntry.sequence)))).all()
    assert all(e.staff_user_id is not None and e.occurred_at is not None for e in events)
    # Each change is processing of the customer's data under the declared purpose: in the access log.
    assert [(row.purpose, "orders.status (changed)" in row.fields) for row in logged] == [
        ("order_fulfilment", True), ("bookkeeping", True)]
    assert {row.staff_user_id for row in logged} == {e.staff_user_id for e in events}


@pytest.mark.policy("P13")
async def test_p13_an_illegal_change_is_a_clean_conflict_and_changes_nothing(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    card = await place_order(services, customer_id, "CARD_STRIPE")
    delivered_invoice = await place_order(services, customer_id, "INVOICE", "FULFILLED")
    unpaid_invoice = await place_order(services, customer_id, "INVOICE")
    fulfilment = await staff_client(app, services, "fulfilment")
    accounting = await staff_client(app, services, "accounting")

    for client, query, order_id in ((fulfilment, MARK_DELIVERED, card), (fulfilment, CANCEL, delivered_invoice),
                                    (accounting, REFUND, unpaid_invoice)):
        refused = await client.gql(query, {"id": _gid(order_id)})
        assert refused.status == 200 and refused.codes == ["CONFLICT"], refused.body
        assert refused.errors[0]["extensions"]["reason"] == "illegal_transition"
    assert await status_of(services, card) == ("PENDING_PAYMENT", 0)
    assert await status_of(services, delivered_invoice) == ("FULFILLED", 0)
    assert await status_of(services, unpaid_invoice) == ("PENDING_PAYMENT", 0)
    unknown = await fulfilment.gql(MARK_DELIVERED, {"id": _gid(uuid.uuid4())})
    assert unknown.codes == ["NOT_FOUND"]


@pytest.mark.policy("P13")
@pytest.mark.parametrize(("role", "query", "reason"), [
    ("support", MARK_PAID, "purpose_not_permitted"),  # support may not act under bookkeeping
    ("fulfilment", REFUND, "purpose_not_permitted"),
    ("accounting", MARK_DELIVERED, "purpose_not_permitted"),
    ("accounting", MARK_PAID.replace("@purpose(use: BOOKKEEPING)", ""), "no_purpose_declared"),
    ("dpo", MARK_PAID.replace("BOOKKEEPING", "CUSTOMER_SERVICE"), "purpose_not_permitted"),  # not a purpose for it
])
async def test_p13_a_change_needs_a_purpose_that_fits_it_and_a_role_that_may_use_it(
    app: Starlette, services: Services, unique_email: str, role: str, query: str, reason: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_id = await place_order(services, customer_id, "INVOICE", "PAID")
    staff = await staff_client(app, services, role)
    refused = await staff.gql(query, {"id": _gid(order_id)})
    assert refused.codes == ["FORBIDDEN"] and refused.errors[0]["extensions"]["reason"] == reason, refused.body
    assert await status_of(services, order_id) == ("PAID", 0)
    anonymous = StorefrontClient(staff.http, path="/admin/graphql")
    await anonymous.gql("mutation { staffLogout }")
    assert (await anonymous.gql(MARK_DELIVERED, {"id": _gid(order_id)})).codes == ["UNAUTHENTICATED"]


# Held erasures complete when the order is settled


async def _assert_erased(services: Services, outbox: Outbox, customer_id: uuid.UUID, email: str,
                         order_ids: list[uuid.UUID]) -> dict[str, Any]:
    request = await erasure_of(services, customer_id)
    assert request.status == "completed" and request.hold_reason is None
    async with services.db.read() as session:
        assert await session.get(Customer, customer_id) is None
        orders = [await session.get(Order, order_id) for order_id in order_ids]
    for order in orders:
        # Reduced to the accounting minimum (P13): nothing leads to the person, the amounts stay.
        assert order is not None and (order.customer_id, order.email, order.phone, order.first_name) == (None,) * 4
        assert order.order_number and order.total_minor == 19875
    assert await outbox.messages(email, "erasure_done")
    report = report_of(request)
    assert report is not None
    return report


@pytest.mark.policy("P24")
@pytest.mark.policy("P13")
async def test_p24_p13_a_held_erasure_completes_when_staff_mark_the_last_open_order_delivered(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email, order_status="PAID")
    held = await request_erasure(services, seeded.customer_id)
    assert held.status == "on_hold" and held.hold_reason and "not delivered yet" in held.hold_reason
    fulfilment = await staff_client(app, services, "fulfilment")

    first = (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(seeded.card_order_id)})).ok()["markOrderDelivered"]
    assert first["status"] == "FULFILLED" and first["customerId"] is not None
    # The invoice order is still open: the erasure keeps waiting, saying for what.
    still = await erasure_of(services, seeded.customer_id)
    assert still.status == "on_hold" and still.hold_reason is not None
    assert "is not delivered yet" in still.hold_reason and str(seeded.card_order_id) not in still.hold_reason
    assert not await outbox.messages(unique_email, "erasure_done")

    last = (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(seeded.invoice_order_id)})).ok()["markOrderDelivered"]
    # The answer already shows the order as the erasure left it.
    assert last["status"] == "FULFILLED" and last["customerId"] is None and last["contact"]["email"] is None
    report = await _assert_erased(services, outbox, seeded.customer_id, unique_email,
                                  [seeded.card_order_id, seeded.invoice_order_id])
    assert {"category": "user.contact.email", "label": {"en": "E-mail address", "sv": "E-postadress"},
            "outcome": "removed"} in report["categories"]
    async with services.db.read() as session:
        kept = (await session.exec(select(OrderEvent).where(
            col(OrderEvent.order_id).in_([seeded.card_order_id, seeded.invoice_order_id])))).all()
    assert len(kept) == 3  # the seeded payment event and the two deliveries stay with the accounting record


@pytest.mark.policy("P24")
async def test_p24_cancelling_the_open_order_lets_the_held_erasure_complete(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_id = await place_order(services, customer_id, "SWISH")
    held = await request_erasure(services, customer_id)
    assert held.status == "on_hold" and "not paid yet" in (held.hold_reason or "")
    support = await staff_client(app, services, "support")
    cancelled = (await support.gql(CANCEL.replace("ORDER_FULFILMENT", "CUSTOMER_SERVICE"),
                                   {"id": _gid(order_id)})).ok()["cancelOrder"]
    assert cancelled["status"] == "CANCELLED" and cancelled["customerId"] is None
    await _assert_erased(services, outbox, customer_id, unique_email, [order_id])


@pytest.mark.policy("P24")
async def test_p24_a_change_that_leaves_the_order_open_keeps_the_erasure_waiting_with_the_new_reason(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_id = await place_order(services, customer_id, "INVOICE")
    await request_erasure(services, customer_id)
    fulfilment = await staff_client(app, services, "fulfilment")
    delivered = (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(order_id)})).ok()["markOrderDelivered"]
    assert delivered["status"] == "DELIVERED_UNPAID"
    held = await erasure_of(services, customer_id)
    assert held.status == "on_hold" and "delivered but not paid yet" in (held.hold_reason or "")
    assert not await outbox.messages(unique_email, "erasure_done")
    accounting = await staff_client(app, services, "accounting")
    assert (await accounting.gql(MARK_PAID, {"id": _gid(order_id)})).ok()["markOrderPaid"]["status"] == "FULFILLED"
    await _assert_erased(services, outbox, customer_id, unique_email, [order_id])
