"""A correction is passed on (GDPR Art. 19, P23): each recipient that was given a corrected field (known
from the logged disclosures) is sent the new value through the outbox, logged like a disclosure under the
purpose it had the data for; the customer sees whom each correction went to. What changed, when and by
whom is kept; the old value is neither sent nor stored anywhere new."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.schema.core.ids import decode_id, encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import Disclosure, OutboxMessage, Rectification
from shop_privacy.storage.types import utc_now

from .helpers import PASSWORD, UPDATE_PROFILE, Outbox, StorefrontClient, staff_client
from .rights_fixtures import export_of
from .test_disclosure_paths import buy, set_consent, shop_customer

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P23")]

MY_CORRECTIONS = "{ myCorrections { field changedAt changedBy recipientsTold } }"
CORRECT = """mutation($id: ID!, $input: CorrectCustomerInput!) @purpose(use: CUSTOMER_SERVICE) {
  correctCustomer(id: $id, input: $input) { address { city } } }"""
OLD_VALUES = ("Svensson", "Storgatan 1", "+46701234567")  # the profile before the correction


async def _rectify(services: Services, customer_id: uuid.UUID) -> tuple[list[OutboxMessage], list[Disclosure]]:
    async with services.db.read() as session:
        queued = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.customer_id == customer_id, OutboxMessage.kind == "rectify")
            .order_by(col(OutboxMessage.recipient)))).all()
        logged = (await session.exec(select(Disclosure).where(
            Disclosure.customer_id == customer_id, Disclosure.kind == "rectify")
            .order_by(col(Disclosure.recipient)))).all()
    return list(queued), list(logged)


async def _rectifications(services: Services, customer_id: uuid.UUID) -> list[Rectification]:
    async with services.db.read() as session:
        return list((await session.exec(select(Rectification).where(Rectification.customer_id == customer_id)
                                        .order_by(col(Rectification.field)))).all())


def _stored_text(rows: list[object]) -> str:
    return json.dumps([{k: str(v) for k, v in vars(row).items() if not k.startswith("_")} for row in rows],
                      ensure_ascii=False)


async def _newsletter_and_invoice_customer(client: StorefrontClient, services: Services, email: str) -> uuid.UUID:
    """Mailchimp has the customer's name and e-mail (newsletter); Fortnox the invoice order's contact."""
    customer_id = await shop_customer(client, services, email)
    await set_consent(client, "NEWSLETTER", True)
    await buy(client, "SSL-DV", "INVOICE", "rectify-0001")
    return customer_id


async def test_p23_a_customers_correction_goes_to_each_recipient_that_had_the_field_and_they_see_whom(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await _newsletter_and_invoice_customer(client, services, unique_email)
    before = utc_now()
    (await client.gql(UPDATE_PROFILE, {"input": {"lastName": "Berg", "phone": "070-765 43 21",
                                                 "address": {"street": "Nygatan 2"}}})).ok()

    queued, logged = await _rectify(services, customer_id)
    payloads = {m.recipient: json.loads(m.payload or "{}") for m in queued}
    # Mailchimp is declared for names and e-mail only: it hears of the new last name, nothing else.
    assert payloads["mailchimp"]["data"] == {"last_name": "Berg"}
    assert payloads["fortnox"]["data"] == {"last_name": "Berg", "phone": "+46707654321",
                                           "address_street": "Nygatan 2"}
    assert sorted(payloads) == ["fortnox", "mailchimp"]  # nobody else had any of these fields
    assert [(d.recipient, d.purpose, d.legal_basis, d.fields) for d in logged] == [
        ("fortnox", "invoicing", "contract", "customers.address_street,customers.last_name,customers.phone"),
        ("mailchimp", "newsletter", "consent", "customers.last_name")]
    assert {payload["purpose"] for payload in payloads.values()} == {"invoicing", "newsletter"}
    assert len({d.reference for d in logged}) == 1 and logged[0].reference  # the correcting request

    history = [r for r in await _rectifications(services, customer_id) if r.changed_at >= before]
    assert [(r.field, r.changed_by) for r in history] == [
        ("customers.address_street", "customer"), ("customers.last_name", "customer"), ("customers.phone", "customer")]
    assert all(before <= r.changed_at <= utc_now() for r in history)
    for old in OLD_VALUES:
        assert old not in _stored_text([*queued, *logged, *history])

    corrections = [c for c in (await client.gql(MY_CORRECTIONS)).ok()["myCorrections"]
                   if datetime.fromisoformat(c["changedAt"]) >= before]
    told = {c["field"]: sorted(c["recipientsTold"]) for c in corrections}
    assert told == {"customers.last_name": ["fortnox", "mailchimp"], "customers.address_street": ["fortnox"],
                    "customers.phone": ["fortnox"]}
    assert {c["changedBy"] for c in corrections} == {"customer"}
    assert all(before <= datetime.fromisoformat(c["changedAt"]) <= utc_now() for c in corrections)
    for old in OLD_VALUES:
        assert old not in json.dumps(corrections, ensure_ascii=False)

    # The export lists the corrections and the notices that passed them on.
    document, _ = await export_of(services, customer_id)
    assert sorted((r["recipient"], r["kind"]) for r in document["recipients"] if r["kind"] == "rectify") == [
        ("fortnox", "rectify"), ("mailchimp", "rectify")]


async def test_p23_a_staff_correction_is_passed_on_and_shows_who_made_it(
    app: Starlette, client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await _newsletter_and_invoice_customer(client, services, unique_email)
    support = await staff_client(app, services, "support")
    staff_id = decode_id("StaffMember", (await support.gql("{ me { id } }")).ok()["me"]["id"])
    corrected = (await support.gql(CORRECT, {"id": encode_id("Customer", customer_id),
                                             "input": {"address": {"city": "Lund"}}})).ok()["correctCustomer"]
    assert corrected == {"address": {"city": "Lund"}}

    queued, logged = await _rectify(services, customer_id)
    assert [(m.recipient, json.loads(m.payload or "{}")["data"]) for m in queued] == [
        ("fortnox", {"address_city": "Lund"})]
    assert [(d.recipient, d.fields) for d in logged] == [("fortnox", "customers.address_city")]
    (history,) = [r for r in await _rectifications(services, customer_id) if r.changed_by != "customer"]
    assert (history.field, history.changed_by) == ("customers.address_city", f"staff:{staff_id}")
    assert "Stockholm" not in _stored_text([*queued, *logged, history])
    corrections = (await client.gql(MY_CORRECTIONS)).ok()["myCorrections"]
    assert corrections[0]["changedAt"] == history.changed_at.isoformat()  # newest first
    assert [(c["field"], c["changedBy"], c["recipientsTold"]) for c in corrections[:1]] == [
        ("customers.address_city", f"staff:{staff_id}", ["fortnox"])]
    # The profile the customer completed before anything went out: nobody was told of that.
    assert {tuple(c["recipientsTold"]) for c in corrections[1:]} == {()}


async def test_p23_a_confirmed_new_email_address_goes_to_the_recipients_that_had_the_old_one(
    client: StorefrontClient, services: Services, outbox: Outbox, catalogue: dict, unique_email: str
) -> None:
    customer_id = await _newsletter_and_invoice_customer(client, services, unique_email)
    new_email = f"annan.{uuid.uuid4().hex[:8]}@exempel.se"
    (await client.gql(UPDATE_PROFILE, {"input": {"email": new_email, "currentPassword": PASSWORD}})).ok()
    assert await _rectify(services, customer_id) == ([], [])  # asked for, not yet confirmed: nothing changed
    token = await outbox.link_token(new_email, "confirm_email_change")
    confirmed = await client.gql("mutation($token: String!) { confirmEmailChange(token: $token) }", {"token": token})
    assert confirmed.ok() == {"confirmEmailChange": True}

    queued, logged = await _rectify(services, customer_id)
    assert [(m.recipient, json.loads(m.payload or "{}")["data"]) for m in queued] == [
        ("fortnox", {"email": new_email}), ("mailchimp", {"email": new_email})]
    assert [(d.recipient, d.purpose, d.fields) for d in logged] == [
        ("fortnox", "invoicing", "customers.email"), ("mailchimp", "newsletter", "customers.email")]
    history = [r for r in await _rectifications(services, customer_id) if r.field == "customers.email"]
    assert [r.changed_by for r in history] == ["customer"]
    assert unique_email not in _stored_text([*queued, *logged, *history])


@pytest.mark.policy("P03")
async def test_p23_a_recipient_whose_consent_was_withdrawn_is_sent_nothing_new(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await _newsletter_and_invoice_customer(client, services, unique_email)
    await set_consent(client, "NEWSLETTER", False)  # Mailchimp was told to unsubscribe
    (await client.gql(UPDATE_PROFILE, {"input": {"firstName": "Annika"}})).ok()
    queued, logged = await _rectify(services, customer_id)
    assert [(m.recipient, json.loads(m.payload or "{}")["data"]) for m in queued] == [
        ("fortnox", {"first_name": "Annika"})]
    assert [d.recipient for d in logged] == ["fortnox"]


async def test_p23_a_correction_nobody_received_is_passed_to_nobody(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    (await client.gql(UPDATE_PROFILE, {"input": {"lastName": "Berg"}})).ok()
    assert await _rectify(services, customer_id) == ([], [])
    corrections = (await client.gql(MY_CORRECTIONS)).ok()["myCorrections"]
    assert {(c["field"], tuple(c["recipientsTold"])) for c in corrections} >= {("customers.last_name", ())}
    assert all(c["changedAt"] > (utc_now() - timedelta(minutes=5)).isoformat() for c in corrections)
