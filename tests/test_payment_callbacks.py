"""Payment provider callbacks (P13): a payment is recorded once, for the order's exact amount, only from the
provider; and with it the erasure an unpaid order held can complete once the order is delivered (P24)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.settings import Settings
from shop_privacy.storage.tables import OrderEvent

from .conftest import make_settings
from .helpers import PASSWORD, Outbox, create_customer, login, staff_client
from .rights_fixtures import seed_everything
from .test_order_lifecycle import CANCEL, MARK_DELIVERED, _gid, erasure_of, place_order, status_of

pytestmark = pytest.mark.anyio

STRIPE_SECRET = "whsec_test_0123456789abcdef"
PAYPAL_SECRET = "paypal-verifier-secret-0123456789"
SWISH_TOKEN = "swish-callback-token-0123456789abcdef"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, stripe_webhook_secret=STRIPE_SECRET,
                         paypal_webhook_secret=PAYPAL_SECRET, swish_callback_token=SWISH_TOKEN)


@pytest.fixture
async def http(app: Starlette) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's documented scheme, written out here independently of the shop's code."""
    moment = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={moment},v1={mac}"


def stripe_body(reference: str, *, amount: int = 19875, currency: str = "sek", event_id: str | None = None,
                kind: str = "payment_intent.succeeded") -> bytes:
    return json.dumps({
        "id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
        "data": {"object": {"id": reference, "object": "payment_intent", "amount": amount,
                            "amount_received": amount if kind == "payment_intent.succeeded" else 0,
                            "currency": currency}},
    }).encode()


async def post_stripe(http: httpx.AsyncClient, body: bytes, *, secret: str = STRIPE_SECRET,
                      timestamp: int | None = None) -> httpx.Response:
    return await http.post("/payments/stripe/webhook", content=body,
                           headers={"Stripe-Signature": signature(body, secret, timestamp),
                                    "Content-Type": "application/json"})


def paypal_body(reference: str, *, value: str = "198.75", kind: str = "PAYMENT.CAPTURE.COMPLETED") -> bytes:
    return json.dumps({
        "id": f"WH-{uuid.uuid4().hex[:17].upper()}", "event_type": kind, "resource_type": "capture",
        "resource": {"id": "3C679366HH908993F", "status": "COMPLETED",
                     "amount": {"currency_code": "SEK", "value": value},
                     "supplementary_data": {"related_ids": {"order_id": reference}}},
    }).encode()


def swish_body(reference: str, *, amount: str = "198.75", status: str = "PAID") -> bytes:
    return json.dumps({
        "id": reference, "payeePaymentReference": "SP-0001", "paymentReference": "1E2FC19E5E5E4E18916609B7F8911C12",
        "callbackUrl": "https://shop.example/payments/swish/callback", "payerAlias": "46701234567",
        "payeeAlias": "1231181189", "amount": amount, "currency": "SEK", "message": "Order", "status": status,
        "dateCreated": "2026-11-24T16:00:00.000Z", "datePaid": "2026-11-24T16:00:05.000Z",
    }).encode()


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    extensions = response.json()["errors"][0]["extensions"]
    return response.status_code, extensions["code"], extensions["reason"]


async def provider_events(services: Services, order_id: uuid.UUID) -> list[OrderEvent]:
    async with services.db.read() as session:
        return list((await session.exec(select(OrderEvent).where(
            OrderEvent.order_id == order_id, col(OrderEvent.provider).is_not(None)))).all())


@pytest.fixture
async def card_order(services: Services, unique_email: str) -> tuple[uuid.UUID, str]:
    customer_id = await create_customer(services, unique_email)
    reference = f"pi_{uuid.uuid4().hex[:24]}"
    return await place_order(services, customer_id, "CARD_STRIPE", reference=reference), reference


@pytest.mark.policy("P13")
async def test_p13_a_signed_stripe_event_marks_the_order_paid_and_records_the_event(
    http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str],
    caplog: pytest.LogCaptureFixture
) -> None:
    order_id, reference = card_order
    body = stripe_body(reference, event_id="evt_good_1")
    with caplog.at_level(logging.INFO, logger="shop_privacy"):
        response = await post_stripe(http, body)
    assert response.status_code == 200 and response.json() == {"outcome": "applied"}
    assert await status_of(services, order_id) == ("PAID", 1)
    [event] = await provider_events(services, order_id)
    assert (event.provider, event.provider_event_id, event.transition, event.from_status, event.to_status,
            event.staff_user_id) == ("stripe", "evt_good_1", "pay", "PENDING_PAYMENT", "PAID", None)
    # Logged with ids only: the provider, its event, the order; nothing about the customer.
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "evt_good_1" in logged and str(order_id) in logged and "kund@exempel.se" not in logged


@pytest.mark.policy("P13")
async def test_p13_a_replayed_event_has_one_effect(
    app: Starlette, http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str]
) -> None:
    order_id, reference = card_order
    body = stripe_body(reference, event_id="evt_replayed")
    assert (await post_stripe(http, body)).json() == {"outcome": "applied"}
    fulfilment = await staff_client(app, services, "fulfilment")
    (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(order_id)})).ok()
    # The same event again (a provider retry) finds it applied: the delivered order stays as it is.
    again = await post_stripe(http, body)
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    assert await status_of(services, order_id) == ("FULFILLED", 2)
    assert len(await provider_events(services, order_id)) == 1


@pytest.mark.policy("P13")
async def test_p13_concurrent_deliveries_of_one_event_apply_it_once(
    http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str]
) -> None:
    order_id, reference = card_order
    body = stripe_body(reference, event_id="evt_concurrent")
    responses = await asyncio.gather(*(post_stripe(http, body) for _ in range(6)))
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert [r.status_code for r in responses] == [200] * 6
    assert outcomes == ["applied"] + ["duplicate"] * 5
    assert await status_of(services, order_id) == ("PAID", 1)


@pytest.mark.policy("P13")
@pytest.mark.parametrize("tamper", ["wrong_secret", "no_header", "changed_body", "too_old"])
async def test_p13_a_badly_signed_event_changes_nothing(
    http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str], tamper: str
) -> None:
    order_id, reference = card_order
    body = stripe_body(reference)
    if tamper == "wrong_secret":
        response = await post_stripe(http, body, secret="whsec_someone_else")
    elif tamper == "too_old":
        response = await post_stripe(http, body, timestamp=int(time.time()) - 301)
    else:
        headers = {} if tamper == "no_header" else {"Stripe-Signature": signature(body, STRIPE_SECRET)}
        sent = body if tamper == "no_header" else body.replace(b"19875", b"00001")
        response = await http.post("/payments/stripe/webhook", content=sent, headers=headers)
    assert error_of(response) == (401, "UNAUTHENTICATED", "invalid_signature")
    assert await status_of(services, order_id) == ("PENDING_PAYMENT", 0)


@pytest.mark.policy("P13")
@pytest.mark.parametrize(("amount", "currency"), [(19874, "sek"), (19875, "eur"), (198750, "sek")])
async def test_p13_an_event_for_another_amount_is_refused(
    http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str], amount: int, currency: str
) -> None:
    order_id, reference = card_order
    response = await post_stripe(http, stripe_body(reference, amount=amount, currency=currency))
    assert error_of(response) == (422, "BAD_USER_INPUT", "amount_mismatch")
    assert await status_of(services, order_id) == ("PENDING_PAYMENT", 0)


@pytest.mark.policy("P13")
async def test_p13_an_event_for_an_unknown_order_or_another_providers_order_is_refused(
    http: httpx.AsyncClient, services: Services, unique_email: str
) -> None:
    response = await post_stripe(http, stripe_body("pi_nobody_knows"))
    assert error_of(response) == (404, "NOT_FOUND", "unknown_order")
    customer_id = await create_customer(services, unique_email)
    swish_order = await place_order(services, customer_id, "SWISH", reference="SWISHREF0001")
    response = await post_stripe(http, stripe_body("SWISHREF0001"))
    assert error_of(response) == (404, "NOT_FOUND", "unknown_order")
    assert await status_of(services, swish_order) == ("PENDING_PAYMENT", 0)


@pytest.mark.policy("P13")
async def test_p13_a_failed_payment_moves_the_order_to_payment_failed_and_a_payment_it_cannot_take_is_a_conflict(
    http: httpx.AsyncClient, services: Services, card_order: tuple[uuid.UUID, str]
) -> None:
    order_id, reference = card_order
    failed = await post_stripe(http, stripe_body(reference, kind="payment_intent.payment_failed"))
    assert failed.json() == {"outcome": "applied"}
    assert await status_of(services, order_id) == ("PAYMENT_FAILED", 1)
    # The customer tried again and it went through.
    assert (await post_stripe(http, stripe_body(reference))).json() == {"outcome": "applied"}
    assert await status_of(services, order_id) == ("PAID", 2)
    # A failed attempt reported late (events arrive out of order) changes nothing and is not retried.
    late_failure = await post_stripe(http, stripe_body(reference, kind="payment_intent.payment_failed"))
    assert late_failure.status_code == 200 and late_failure.json() == {"outcome": "ignored"}
    assert await status_of(services, order_id) == ("PAID", 2)
    # A payment for an order that was called off is a conflict: the money needs a refund by hand.
    cancelled = await place_order(services, None, "CARD_STRIPE", "CANCELLED", reference="pi_cancelled_order")
    after_cancel = await post_stripe(http, stripe_body("pi_cancelled_order"))
    assert error_of(after_cancel) == (409, "CONFLICT", "illegal_transition")
    assert await status_of(services, cancelled) == ("CANCELLED", 0)
    ignored = await post_stripe(http, json.dumps({"id": "evt_x", "type": "charge.refund.updated",
                                                  "data": {"object": {}}}).encode())
    assert ignored.status_code == 200 and ignored.json() == {"outcome": "ignored"}
    malformed = await post_stripe(http, b'{"id": "evt_y", "type": "payment_intent.succeeded"}')
    assert error_of(malformed) == (400, "BAD_USER_INPUT", "invalid_payload")
    assert await status_of(services, order_id) == ("PAID", 2)


@pytest.mark.policy("P13")
async def test_p13_paypal_events_come_signed_by_the_shops_verifier(
    http: httpx.AsyncClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_id = await place_order(services, customer_id, "CARD_PAYPAL", reference="5O190127TN364715T")
    unsigned = await http.post("/payments/paypal/webhook", content=paypal_body("5O190127TN364715T"))
    assert error_of(unsigned) == (401, "UNAUTHENTICATED", "invalid_signature")
    wrong = paypal_body("5O190127TN364715T", value="198.70")
    response = await http.post("/payments/paypal/webhook", content=wrong,
                               headers={"Shop-Webhook-Signature": signature(wrong, PAYPAL_SECRET)})
    assert error_of(response) == (422, "BAD_USER_INPUT", "amount_mismatch")
    assert await status_of(services, order_id) == ("PENDING_PAYMENT", 0)
    body = paypal_body("5O190127TN364715T")
    response = await http.post("/payments/paypal/webhook", content=body,
                               headers={"Shop-Webhook-Signature": signature(body, PAYPAL_SECRET)})
    assert response.json() == {"outcome": "applied"}
    assert await status_of(services, order_id) == ("PAID", 1)


@pytest.mark.policy("P13")
async def test_p13_swish_callbacks_need_the_token_of_the_callback_url(
    http: httpx.AsyncClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    paid = await place_order(services, customer_id, "SWISH", reference="AB23D7406ECE4542A80152D909EF9F6B")
    declined = await place_order(services, customer_id, "SWISH", reference="0A1B2C3D4E5F60718293A4B5C6D7E8F9")
    no_token = await http.post("/payments/swish/callback", content=swish_body("AB23D7406ECE4542A80152D909EF9F6B"))
    wrong_token = await http.post("/payments/swish/callback?token=guess",
                                  content=swish_body("AB23D7406ECE4542A80152D909EF9F6B"))
    for refused in (no_token, wrong_token):
        assert error_of(refused) == (401, "UNAUTHENTICATED", "invalid_signature")
    url = f"/payments/swish/callback?token={SWISH_TOKEN}"
    assert error_of(await http.post(url, content=swish_body("AB23D7406ECE4542A80152D909EF9F6B", amount="19875"))) \
        == (422, "BAD_USER_INPUT", "amount_mismatch")
    assert (await http.post(url, content=swish_body("AB23D7406ECE4542A80152D909EF9F6B"))).json() == {
        "outcome": "applied"}
    assert (await http.post(url, content=swish_body("AB23D7406ECE4542A80152D909EF9F6B"))).json() == {
        "outcome": "duplicate"}
    assert (await http.post(url, content=swish_body("0A1B2C3D4E5F60718293A4B5C6D7E8F9", status="DECLINED"))
            ).json() == {"outcome": "applied"}
    assert await status_of(services, paid) == ("PAID", 1)
    assert await status_of(services, declined) == ("PAYMENT_FAILED", 1)


@pytest.mark.policy("P13")
async def test_p13_a_provider_without_a_secret_is_not_listened_to(
    database_url: str, tmp_path: Path, services: Services, card_order: tuple[uuid.UUID, str]
) -> None:
    from .conftest import client_with

    order_id, reference = card_order
    async with client_with(database_url, tmp_path) as client:
        response = await client.http.post("/payments/stripe/webhook", content=stripe_body(reference),
                                          headers={"Stripe-Signature": "t=1,v1=00"})
    assert error_of(response) == (404, "NOT_FOUND", "provider_not_configured")
    assert await status_of(services, order_id) == ("PENDING_PAYMENT", 0)


@pytest.mark.policy("P24")
@pytest.mark.policy("P13")
async def test_p24_p13_payment_webhook_then_delivery_completes_the_held_erasure(
    app: Starlette, http: httpx.AsyncClient, services: Services, outbox: Outbox, unique_email: str
) -> None:
    from .conftest import client_for
    from .test_rights_erasure import REQUEST_ERASURE

    seeded = await seed_everything(services, unique_email, order_status="PENDING_PAYMENT")
    support = await staff_client(app, services, "support")
    (await support.gql(CANCEL.replace("ORDER_FULFILMENT", "CUSTOMER_SERVICE"),
                       {"id": _gid(seeded.invoice_order_id)})).ok()
    customer = client_for(app)
    (await login(customer, unique_email)).ok()
    held = (await customer.gql(REQUEST_ERASURE, {"password": PASSWORD})).ok()["requestErasure"]
    assert held["status"] == "ON_HOLD" and "is not paid yet" in held["holdReason"]

    paid = await post_stripe(http, stripe_body("ref-seed-card", event_id="evt_pays_the_held_order"))
    assert paid.json() == {"outcome": "applied"}
    still = await erasure_of(services, seeded.customer_id)
    assert still.status == "on_hold" and "is not delivered yet" in (still.hold_reason or "")
    assert not await outbox.messages(unique_email, "erasure_done")

    fulfilment = await staff_client(app, services, "fulfilment")
    delivered = (await fulfilment.gql(MARK_DELIVERED, {"id": _gid(seeded.card_order_id)})).ok()
    assert delivered["markOrderDelivered"]["customerId"] is None
    done = await erasure_of(services, seeded.customer_id)
    assert done.status == "completed"
    assert await outbox.messages(unique_email, "erasure_done")
    from .test_order_lifecycle import _assert_erased

    await _assert_erased(services, outbox, seeded.customer_id, unique_email,
                         [seeded.card_order_id, seeded.invoice_order_id])
    # The payment's event stays with the accounting record, by the provider's id only.
    assert "evt_pays_the_held_order" in {e.provider_event_id for e in await provider_events(
        services, seeded.card_order_id)}
    await customer.http.aclose()
