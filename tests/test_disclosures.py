"""Recipients and disclosures (P04, P05, P09, P17, P18, P20, P25) and the outbox that carries them."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.disclosures.outbox import Outgoing, RecordingAdapter
from shop_privacy.disclosures.service import DisclosureRefused
from shop_privacy.privacy.purposes import PURPOSES
from shop_privacy.privacy.recipients import RECIPIENTS
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer, Disclosure, OutboxMessage
from shop_privacy.storage.types import utc_now

from .helpers import (
    ADD_TO_CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    UPDATE_PROFILE,
    StorefrontClient,
    create_customer,
    login,
    product_ids,
    staff_client,
)
from .rights_fixtures import export_of

pytestmark = pytest.mark.anyio

PAYER = {"first_name", "last_name", "email", "phone", "address_street", "address_postal_code", "address_city",
         "address_country"}


async def _outbox(services: Services, kind: str | None = None) -> list[OutboxMessage]:
    async with services.db.reader() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.created_at))
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list((await session.exec(query)).all())


async def _checkout(client: StorefrontClient, services: Services, email: str, method: str, **extra: object) -> dict:
    await create_customer(services, email, company_name="Exempel AB")
    (await login(client, email)).ok()
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    return (await client.gql(CHECKOUT, {"input": {"paymentMethod": method, "idempotencyKey": "disclose-0001",
                                                  **extra}})).ok()["checkout"]


@pytest.mark.policy("P04")
async def test_p04_a_card_payment_discloses_exactly_the_declared_fields_to_stripe_and_logs_it(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    order = await _checkout(client, services, unique_email, "CARD_STRIPE")
    (message,) = await _outbox(services)
    payload = json.loads(message.payload or "{}")
    assert (message.recipient, message.kind, payload["purpose"]) == ("stripe", "disclose", "payment")
    assert set(payload["data"]) == PAYER  # no company name, org number or IP address
    assert payload["data"]["email"] == unique_email and payload["reference"] == order["number"]
    async with services.db.reader() as session:
        (logged,) = (await session.exec(select(Disclosure))).all()
    assert (logged.recipient, logged.purpose, logged.legal_basis, logged.reference) == (
        "stripe", "payment", "contract", order["number"])
    assert set(logged.fields.split(",")) == {f"orders.{name}" for name in PAYER}
    assert "user.contact.email" in logged.categories and unique_email not in logged.fields


@pytest.mark.policy("P05")
async def test_p05_an_invoice_gives_fortnox_the_org_number_and_company_too(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _checkout(client, services, unique_email, "INVOICE", organisationNumber="556036-0793")
    (message,) = await _outbox(services)
    payload = json.loads(message.payload or "{}")
    assert (message.recipient, payload["purpose"]) == ("fortnox", "invoicing")
    assert set(payload["data"]) == PAYER | {"company_org_number", "company_name"}
    assert payload["data"]["company_org_number"] == "556036-0793"


@pytest.mark.policy("P09")
async def test_p09_a_newsletter_grant_gives_mailchimp_first_name_last_name_and_email_only(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email, phone="+46701234567", company_name="Exempel AB")
    (await login(client, unique_email)).ok()
    state = (await client.gql('mutation { setConsent(purpose: NEWSLETTER, granted: true) { purpose granted } }')).ok()
    assert state["setConsent"] == {"purpose": "NEWSLETTER", "granted": True}
    (message,) = await _outbox(services)
    payload = json.loads(message.payload or "{}")
    assert message.recipient == "mailchimp"
    assert payload["data"] == {"email": unique_email, "first_name": "Anna", "last_name": "Svensson"}


@pytest.mark.policy("P09")
@pytest.mark.policy("P03")
async def test_p09_p03_without_consent_nothing_goes_to_mailchimp(services: Services, unique_email: str) -> None:
    customer_id = await create_customer(services, unique_email)
    async with services.db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        with pytest.raises(DisclosureRefused) as refused:
            await services.disclosures.disclose(session, "mailchimp", customer_id=customer_id, purpose="newsletter",
                                                row=customer)
    assert refused.value.details["reason"] == "no_consent"
    assert await _outbox(services) == []


@pytest.mark.policy("P17")
async def test_p17_no_disclosure_without_a_declared_recipient_and_purpose(services: Services,
                                                                         unique_email: str) -> None:
    customer_id = await create_customer(services, unique_email)
    async with services.db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        for recipient, purpose, reason in (("data_broker", "marketing", "unknown_recipient"),
                                           ("mailchimp", "marketing", "purpose_not_declared"),
                                           ("stripe", "newsletter", "purpose_not_declared")):
            with pytest.raises(DisclosureRefused) as refused:
                await services.disclosures.disclose(session, recipient, customer_id=customer_id, purpose=purpose,
                                                    row=customer)  # type: ignore[arg-type]
            assert refused.value.details["reason"] == reason
    assert await _outbox(services) == []


@pytest.mark.policy("P18")
def test_p18_marketing_recipients_are_declared_with_their_fields_and_need_consent() -> None:
    for key in ("google_ads", "facebook", "printer"):
        recipient = RECIPIENTS[key]
        # Marketing (and, for the ad networks, their cookies in the browser): every purpose needs consent.
        assert "marketing" in recipient.purposes and all(PURPOSES[p].needs_consent for p in recipient.purposes)
        assert recipient.categories and recipient.transfer_basis
    assert RECIPIENTS["printer"].categories == ("user.name", "user.contact.address")
    assert PURPOSES[RECIPIENTS["google_analytics"].purposes[0]].needs_consent


@pytest.mark.policy("P25")
async def test_p25_withdrawing_the_newsletter_queues_an_unsubscribe_and_erasure_asks_every_recipient(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _checkout(client, services, unique_email, "CARD_PAYPAL")
    (await client.gql('mutation { setConsent(purpose: NEWSLETTER, granted: true) { granted } }')).ok()
    (await client.gql('mutation { setConsent(purpose: NEWSLETTER, granted: false) { granted } }')).ok()
    (unsubscribe,) = await _outbox(services, "unsubscribe")
    assert unsubscribe.recipient == "mailchimp" and json.loads(unsubscribe.payload or "{}")["data"] == {
        "email": unique_email}
    async with services.db.transaction() as session:
        await session.exec(OutboxMessage.__table__.update().values(status="delivered"))  # type: ignore[attr-defined]
        from shop_privacy.storage.tables import Order
        await session.exec(Order.__table__.update().values(status="FULFILLED"))  # type: ignore[attr-defined]
    erased = (await client.gql('mutation { requestErasure(password: "Blå-Skog-Väg-2026!") { status report } }')).ok()
    assert erased["requestErasure"]["report"]["recipientsAskedToErase"] == ["mailchimp", "paypal"]
    assert sorted(m.recipient for m in await _outbox(services, "erase")) == ["mailchimp", "paypal"]


@pytest.mark.policy("P20")
async def test_p20_the_dpo_records_a_disclosure_required_by_law_and_it_is_in_the_export(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    dpo = await staff_client(app, services, "dpo")
    recorded = (await dpo.gql("""mutation($c: ID!) @purpose(use: LEGAL_OBLIGATION) { recordLegalDisclosure(input: {
      customerId: $c, recipient: "Polismyndigheten", legalReference: "Beslut om editionsföreläggande B 1234-26",
      categories: ["user.contact.email", "user.behavior.purchase_history"]}) {
        recipient purpose legalBasis reference } }""",
                              {"c": encode_id("Customer", customer_id)})).ok()["recordLegalDisclosure"]
    assert recorded == {"recipient": "Polismyndigheten", "purpose": "legal_obligation",
                        "legalBasis": "legal_obligation", "reference": "Beslut om editionsföreläggande B 1234-26"}
    query = "query($c: ID!) @purpose(use: ACCOUNTABILITY) { disclosures(customerId: $c) { recipient } }"
    listed = (await dpo.gql(query, {"c": encode_id("Customer", customer_id)})).ok()["disclosures"]
    assert listed == [{"recipient": "Polismyndigheten"}]
    bad = await dpo.gql("""mutation($c: ID!) @purpose(use: LEGAL_OBLIGATION) { recordLegalDisclosure(input: {
      customerId: $c, recipient: "X", legalReference: "Y", categories: ["user.soul"]}) { recipient } }""",
                        {"c": encode_id("Customer", customer_id)})
    assert bad.codes == ["BAD_USER_INPUT"]
    document, html = await export_of(services, customer_id)
    assert [r["recipient"] for r in document["recipients"]] == ["Polismyndigheten"]
    assert "Polismyndigheten" in html and "B 1234-26" in html


# The outbox


class _Flaky:
    """Fails the first `failures` deliveries of each message, then records it."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: dict[uuid.UUID, int] = {}
        self.delivered: list[Outgoing] = []

    async def deliver(self, message: Outgoing) -> None:
        self.seen[message.id] = self.seen.get(message.id, 0) + 1
        if self.seen[message.id] <= self.failures:
            raise ConnectionError("recipient unreachable")
        self.delivered.append(message)


async def _queue(services: Services, count: int) -> list[uuid.UUID]:
    customer_id = await create_customer(services, f"outbox.{uuid.uuid4().hex[:6]}@exempel.se")
    async with services.db.transaction() as session:
        messages = [OutboxMessage(customer_id=customer_id, recipient="stripe", kind="disclose",
                                  payload=json.dumps({"data": {"n": n}})) for n in range(count)]
        session.add_all(messages)
    return [m.id for m in messages]


async def test_failed_deliveries_are_retried_with_backoff_then_delivered_and_their_payload_dropped(
    services: Services,
) -> None:
    ids = await _queue(services, 3)
    flaky = _Flaky(failures=2)
    services.outbox.adapters = {"stripe": flaky}
    first = await services.outbox.run_once()
    assert (first.delivered, first.retried) == (0, 3)
    assert (await services.outbox.run_once()).delivered == 0  # not due yet: backing off
    later = utc_now() + timedelta(minutes=10)
    for _ in range(2):
        await services.outbox.run_once(now=later)
        later += timedelta(minutes=10)
    assert sorted(m.id for m in flaky.delivered) == sorted(ids)
    messages = await _outbox(services)
    assert {m.status for m in messages} == {"delivered"} and {m.payload for m in messages} == {None}
    assert {m.last_error for m in messages} == {None}
    assert services.outbox.retry_after(1) < services.outbox.retry_after(2) < services.outbox.retry_after(3)


async def test_a_message_that_keeps_failing_is_marked_failed_not_dropped(services: Services) -> None:
    (message_id,) = await _queue(services, 1)
    services.outbox.adapters = {"stripe": _Flaky(failures=1000)}
    later = utc_now()
    for _ in range(12):
        await services.outbox.run_once(now=later)
        later += timedelta(days=1)
    (message,) = await _outbox(services)
    assert (message.id, message.status, message.last_error) == (message_id, "failed", "ConnectionError")
    assert message.payload is not None  # kept for the DPO to deal with


@pytest.mark.policy("P25")
async def test_p25_a_worker_killed_mid_run_loses_no_message(services: Services) -> None:
    ids = await _queue(services, 20)
    delivered: list[uuid.UUID] = []

    busy = asyncio.Event()

    class StallsOnTheFourth:
        async def deliver(self, message: Outgoing) -> None:
            if len(delivered) == 3:
                busy.set()
                await asyncio.Event().wait()  # never returns: the worker dies while it waits here
            delivered.append(message.id)

    services.outbox.adapters = {"stripe": StallsOnTheFourth()}
    worker = asyncio.create_task(services.outbox.run_once(batch=20))
    await busy.wait()
    worker.cancel()  # the process dies half-way through its batch
    with pytest.raises(asyncio.CancelledError):
        await worker
    assert 0 < len(delivered) < 20
    # Nothing claimed and undelivered is due before its lease ends; then a new worker delivers it.
    assert (await services.outbox.run_once()).delivered == 0
    recorder = RecordingAdapter()
    services.outbox.adapters = {"stripe": recorder}
    run = await services.outbox.run_once(batch=50, now=utc_now() + timedelta(minutes=5))
    assert set(delivered) | {m.id for m in recorder.delivered} == set(ids)  # at least once, every one
    assert run.delivered == len(recorder.delivered)
    assert {m.status for m in await _outbox(services)} == {"delivered"}


async def test_consents_of_a_visitor_follow_them_into_their_account(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    visitor = await client.gql('mutation { setConsent(purpose: ANALYTICS, granted: true, source: COOKIE_BANNER) '
                               '{ granted history { source } } }')
    assert visitor.ok()["setConsent"] == {"granted": True, "history": [{"source": "COOKIE_BANNER"}]}
    assert client.http.cookies.get("sp_visitor")
    assert (await client.gql('mutation { setConsent(purpose: NEWSLETTER, granted: true) { granted } }')).codes == [
        "UNAUTHENTICATED"]
    (await login(client, unique_email)).ok()
    consents = (await client.gql("{ myConsents { purpose granted } }")).ok()["myConsents"]
    assert {c["purpose"]: c["granted"] for c in consents} == {"NEWSLETTER": False, "MARKETING": False,
                                                             "PERSONALISATION": False, "ANALYTICS": True,
                                                             "MARKETING_COOKIES": False}
    assert client.http.cookies.get("sp_visitor") is None
