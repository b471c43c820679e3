"""Restriction of processing (GDPR Art. 18) and objection to it (Art. 21), through the storefront and the
admin API: requests in the DPO's queue (P14), marketing stopped (P03, P19), disclosures refused (P17, P20),
staff reads only for legal claims and recorded, consent not given again after an objection (P27), and all of
it in the export (P22)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.carts.service import CartOwner
from shop_privacy.consents.ledger import ConsentOwner
from shop_privacy.disclosures.service import DisclosureRefused
from shop_privacy.payments.providers import PaymentMethod
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import AccessLogEntry, AccountMail, Cart, Consent, Customer, Order, ProcessingLimit
from shop_privacy.storage.types import utc_now

from .concurrency.support import before_each_statement
from .helpers import (
    ADD_TO_CART,
    CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    UPDATE_PROFILE,
    Outbox,
    StorefrontClient,
    create_customer,
    login,
    product_ids,
    staff_client,
)
from .rights_fixtures import export_of

pytestmark = pytest.mark.anyio

RESTRICT = """mutation($grounds: String) { requestRestriction(grounds: $grounds) {
  id kind status channel report } }"""
OBJECT = """mutation($to: ObjectionTarget!, $grounds: String) { objectToProcessing(to: $to, grounds: $grounds) {
  id kind status report } }"""
LIFT_OBJECTION = "mutation { liftMarketingObjection }"
SET_CONSENT = """mutation($p: ConsentPurpose!, $g: Boolean!) { setConsent(purpose: $p, granted: $g) {
  purpose granted } }"""
MY_CONSENTS = "{ myConsents { purpose granted history { source } } }"
MY_REQUESTS = "{ myRequests { id kind status report } }"
READ_CUSTOMER = """query($id: ID!) @purpose(use: {purpose}) { customer(id: $id) {
  email phone processingRestricted } }"""
LIFT_RESTRICTION = """mutation($id: ID!, $reason: String!) @purpose(use: ACCOUNTABILITY) {
  liftRestriction(customerId: $id, reason: $reason) { id kind status report } }"""
DECIDE = """mutation($id: ID!, $granted: Boolean!, $reason: String!) @purpose(use: ACCOUNTABILITY) {
  decideObjection(id: $id, granted: $granted, reason: $reason) { id status report } }"""
REGISTER = """mutation($input: RegisterRequestInput!) @purpose(use: ACCOUNTABILITY) {
  registerSubjectRequest(input: $input) { id kind status } }"""
RUN = "mutation($id: ID!) @purpose(use: ACCOUNTABILITY) { runSubjectRequest(id: $id) { id status report } }"


def _read(purpose: str) -> str:
    return READ_CUSTOMER.replace("{purpose}", purpose)


def _reasons(response: object) -> set[str]:
    return {e.get("extensions", {}).get("reason") for e in response.errors}  # type: ignore[attr-defined]


async def _logged_in(client: StorefrontClient, services: Services, email: str, **profile: object) -> uuid.UUID:
    customer_id = await create_customer(services, email, **profile)
    (await login(client, email)).ok()
    return customer_id  # type: ignore[no-any-return]


async def _restrict(services: Services, customer_id: uuid.UUID) -> None:
    await services.restrictions.request_restriction(customer_id, "My address is wrong, check it first")


@pytest.mark.policy("P14")
async def test_p14_a_customer_restricts_processing_at_once_and_asking_again_finds_the_same_request(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await _logged_in(client, services, unique_email)
    first = (await client.gql(RESTRICT, {"grounds": "My address is wrong, check it first"})).ok()[
        "requestRestriction"]
    assert (first["kind"], first["status"], first["channel"]) == ("RESTRICTION", "COMPLETED", "SELF_SERVICE")
    assert first["report"]["outcome"] == "restricted"
    again = (await client.gql(RESTRICT)).ok()["requestRestriction"]
    assert again["id"] == first["id"]
    assert [r["id"] for r in (await client.gql(MY_REQUESTS)).ok()["myRequests"]] == [first["id"]]
    async with services.db.reader() as session:
        limits = await services.restrictions.limits(session, [customer_id])
        (row,) = (await session.exec(select(ProcessingLimit).where(ProcessingLimit.customer_id == customer_id))).all()
    assert limits[customer_id].restricted
    assert (row.kind, row.status, row.grounds) == ("restriction", "in_force", "My address is wrong, check it first")


@pytest.mark.policy("P19")
@pytest.mark.policy("P03")
async def test_p19_p03_a_marketing_send_skips_a_restricted_customer(
    services: Services, outbox: Outbox, catalogue: dict[str, uuid.UUID]
) -> None:
    keeps = await create_customer(services, f"behaller.{uuid.uuid4().hex[:6]}@exempel.se")
    restricts = await create_customer(services, f"begransar.{uuid.uuid4().hex[:6]}@exempel.se")
    for customer_id in (keeps, restricts):
        await services.carts.add(CartOwner(customer_id, None), {"product_id": catalogue["SSL-DV"]})
        await services.consent_ledger.set(ConsentOwner(customer_id, None), "marketing", True, "checkout")
    async with services.db.transaction() as session:
        await session.exec(update(Cart).values(updated_at=utc_now() - timedelta(days=2)))  # type: ignore[call-overload]
    assert {c.customer_id for c in await services.abandoned_carts.candidates(timedelta(hours=24))} == {
        keeps, restricts}
    await _restrict(services, restricts)
    assert [c.customer_id for c in await services.abandoned_carts.candidates(timedelta(hours=24))] == [keeps]
    assert await services.abandoned_carts.send_reminders(timedelta(hours=24)) == 1
    async with services.db.reader() as session:
        emails = {c.id: c.email for c in (await session.exec(select(Customer))).all()}
    assert len(await outbox.messages(emails[keeps], "abandoned_cart")) == 1
    assert not await outbox.messages(emails[restricts], "abandoned_cart")


@pytest.mark.policy("P17")
@pytest.mark.policy("P09")
async def test_p17_a_restricted_customers_data_is_not_disclosed_and_a_refused_grant_writes_nothing(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await _logged_in(client, services, unique_email)
    (await client.gql(SET_CONSENT, {"p": "NEWSLETTER", "g": True})).ok()  # subscribed at Mailchimp
    (await client.gql(RESTRICT)).ok()
    async with services.db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        with pytest.raises(DisclosureRefused) as refused:
            await services.disclosures.disclose(session, "mailchimp", customer_id=customer_id, purpose="newsletter",
                                                row=customer)
    assert refused.value.details["reason"] == "restricted"
    # Granting a consent whose grant discloses (the newsletter) is refused whole: no consent record is left.
    (await client.gql(SET_CONSENT, {"p": "NEWSLETTER", "g": False})).ok()
    before = await _consent_count(services, customer_id)
    again = await client.gql(SET_CONSENT, {"p": "NEWSLETTER", "g": True})
    assert again.codes == ["PRIVACY_DENIED"] and _reasons(again) == {"restricted"}
    assert await _consent_count(services, customer_id) == before


@pytest.mark.policy("P04")
async def test_p04_a_restricted_customers_checkout_is_refused_before_any_payment_starts(
    client: StorefrontClient, services: Services, catalogue: dict[str, uuid.UUID], unique_email: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id = await _logged_in(client, services, unique_email)
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-BUSINESS"], "quantity": 1}})).ok()
    await _restrict(services, customer_id)
    provider = services.orders._providers[PaymentMethod.CARD_STRIPE]
    started: list[object] = []
    start_payment = provider.start_payment

    async def counting(request: object) -> object:
        started.append(request)
        return await start_payment(request)  # type: ignore[arg-type]

    monkeypatch.setattr(provider, "start_payment", counting)
    refused = await client.gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE", "idempotencyKey": "restricted-1"}})
    assert refused.codes == ["PRIVACY_DENIED"] and _reasons(refused) == {"restricted"}
    assert started == []
    async with services.db.reader() as session:
        assert (await session.exec(select(Order).where(Order.customer_id == customer_id))).all() == []
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 1


async def _consent_count(services: Services, customer_id: uuid.UUID) -> int:
    async with services.db.reader() as session:
        return len((await session.exec(select(Consent).where(Consent.customer_id == customer_id))).all())


@pytest.mark.policy("P20")
async def test_p20_a_disclosure_required_by_law_is_still_recorded_for_a_restricted_customer(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await _restrict(services, customer_id)
    dpo = await staff_client(app, services, "dpo")
    recorded = await dpo.gql("""mutation($input: LegalDisclosureInput!) @purpose(use: LEGAL_OBLIGATION) {
      recordLegalDisclosure(input: $input) { recipient reference } }""", {"input": {
        "customerId": encode_id("Customer", customer_id), "recipient": "Polismyndigheten",
        "legalReference": "Beslut om editionsföreläggande 2026-11-20", "categories": ["user.contact.email"]}})
    # Recorded; reading back what was recorded is itself a read of the restricted customer's data: refused.
    assert recorded.data["recordLegalDisclosure"] == {"recipient": None, "reference": None}
    assert _reasons(recorded) == {"restricted"}
    history = await dpo.gql("""query($id: ID!) @purpose(use: LEGAL_CLAIMS) { disclosures(customerId: $id) {
      recipient purpose } }""", {"id": encode_id("Customer", customer_id)})
    assert history.ok()["disclosures"] == [{"recipient": "Polismyndigheten", "purpose": "legal_obligation"}]


@pytest.mark.policy("P14")
async def test_p14_staff_read_a_restricted_customer_only_for_legal_claims_and_the_read_is_logged(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email, phone="+46701234567")
    other_id = await create_customer(services, f"annan.{uuid.uuid4().hex[:6]}@exempel.se", phone="+46709876543")
    await _restrict(services, customer_id)
    support = await staff_client(app, services, "support")
    denied = await support.gql(_read("CUSTOMER_SERVICE"), {"id": encode_id("Customer", customer_id)})
    assert denied.data["customer"] == {"email": None, "phone": None, "processingRestricted": True}
    assert set(denied.codes) == {"PRIVACY_DENIED"} and _reasons(denied) == {"restricted"}
    unrestricted = (await support.gql(_read("CUSTOMER_SERVICE"), {"id": encode_id("Customer", other_id)})).ok()
    assert unrestricted["customer"]["phone"] == "+46709876543"
    assert unrestricted["customer"]["processingRestricted"] is False
    # The support role may not use LEGAL_CLAIMS; the DPO may, and reads everything under it.
    assert _reasons(await support.gql(_read("LEGAL_CLAIMS"), {"id": encode_id("Customer", customer_id)})) == {
        "purpose_not_permitted"}
    dpo = await staff_client(app, services, "dpo")
    assert _reasons(await dpo.gql(_read("ACCOUNTABILITY"), {"id": encode_id("Customer", customer_id)})) == {
        "restricted"}
    read = (await dpo.gql(_read("LEGAL_CLAIMS"), {"id": encode_id("Customer", customer_id)})).ok()["customer"]
    assert read == {"email": unique_email, "phone": "+46701234567", "processingRestricted": True}
    async with services.db.reader() as session:
        logged = (await session.exec(select(AccessLogEntry).where(AccessLogEntry.subject_id == customer_id))).all()
    assert [entry.purpose for entry in logged] == ["legal_claims"]
    assert "customers.email" in logged[0].fields


@pytest.mark.policy("P14")
async def test_p14_lifting_a_restriction_mails_the_customer_first_in_the_same_transaction(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await _restrict(services, customer_id)
    dpo = await staff_client(app, services, "dpo")
    variables = {"id": encode_id("Customer", customer_id), "reason": "The address was checked and is right"}

    def fail_the_mail(statement: str) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCOUNT_MAILS"):
            raise RuntimeError("mail queue unavailable")

    with before_each_statement(services, fail_the_mail):
        failed = await dpo.gql(LIFT_RESTRICTION, variables)
    assert failed.data["liftRestriction"] is None
    async with services.db.reader() as session:
        assert (await services.restrictions.limits(session, [customer_id]))[customer_id].restricted

    order: list[str] = []

    def note(statement: str) -> None:
        head = statement.lstrip().upper()
        if head.startswith(("INSERT INTO ACCOUNT_MAILS", "UPDATE PROCESSING_LIMITS")):
            order.append(head.split()[0])

    with before_each_statement(services, note):
        lifted = (await dpo.gql(LIFT_RESTRICTION, variables)).ok()["liftRestriction"]
    assert order == ["INSERT", "UPDATE"]
    assert lifted["report"]["liftReason"] == "The address was checked and is right"
    (mail,) = await outbox.messages(unique_email, "restriction_lifted")
    assert "The address was checked and is right" in mail.get_payload(decode=True).decode()
    async with services.db.reader() as session:
        assert not (await services.restrictions.limits(session, [customer_id]))[customer_id].restricted
        assert len((await session.exec(select(AccountMail).where(AccountMail.customer_id == customer_id))).all()) == 1
    support = await staff_client(app, services, "support")
    assert (await support.gql(_read("CUSTOMER_SERVICE"), {"id": encode_id("Customer", customer_id)})).ok()[
        "customer"]["email"] == unique_email
    again = await dpo.gql(LIFT_RESTRICTION, variables)
    assert again.codes == ["BAD_USER_INPUT"] and _reasons(again) == {"not_restricted"}


@pytest.mark.policy("P27")
@pytest.mark.policy("P03")
async def test_p27_an_objection_to_direct_marketing_withdraws_every_marketing_consent_and_blocks_a_new_grant(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await _logged_in(client, services, unique_email)
    for purpose in ("NEWSLETTER", "MARKETING", "ANALYTICS"):
        (await client.gql(SET_CONSENT, {"p": purpose, "g": True})).ok()
    objection = (await client.gql(OBJECT, {"to": "DIRECT_MARKETING"})).ok()["objectToProcessing"]
    assert (objection["kind"], objection["status"]) == ("OBJECTION", "COMPLETED")
    assert objection["report"]["purposes"] == ["marketing", "newsletter", "personalisation"]
    assert objection["report"]["consentsWithdrawn"] == ["marketing", "newsletter"]
    consents = {c["purpose"]: c for c in (await client.gql(MY_CONSENTS)).ok()["myConsents"]}
    assert not consents["MARKETING"]["granted"] and not consents["NEWSLETTER"]["granted"]
    assert consents["MARKETING"]["history"][-1]["source"] == "OBJECTION"
    assert consents["ANALYTICS"]["granted"]  # web analytics is not direct marketing
    for purpose in ("MARKETING", "PERSONALISATION", "NEWSLETTER"):
        refused = await client.gql(SET_CONSENT, {"p": purpose, "g": True})
        assert refused.codes == ["BAD_USER_INPUT"] and _reasons(refused) == {"objected"}
    assert (await client.gql(LIFT_OBJECTION)).ok()["liftMarketingObjection"] is True
    assert (await client.gql(SET_CONSENT, {"p": "MARKETING", "g": True})).ok()["setConsent"]["granted"]
    assert (await client.gql(LIFT_OBJECTION)).ok()["liftMarketingObjection"] is False


@pytest.mark.policy("P14")
async def test_p14_an_objection_to_fraud_prevention_granted_by_the_dpo_stops_it_with_the_reason_recorded(
    app: Starlette, client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await _logged_in(client, services, unique_email)
    assert (await client.gql(OBJECT, {"to": "FRAUD_PREVENTION"})).codes == ["BAD_USER_INPUT"]  # grounds needed
    objection = (await client.gql(OBJECT, {"to": "FRAUD_PREVENTION", "grounds": "I only pay by invoice"})).ok()[
        "objectToProcessing"]
    assert objection["status"] == "RECEIVED"
    dpo = await staff_client(app, services, "dpo")
    assert (await dpo.gql(RUN, {"id": objection["id"]})).codes == ["BAD_USER_INPUT"]  # decided, not run
    support = await staff_client(app, services, "support")
    fraud_read = _read("FRAUD_PREVENTION")
    undecided = await support.gql(fraud_read, {"id": encode_id("Customer", customer_id)})
    assert undecided.data["customer"]["email"] == "k***@e***.se"  # masked, as fraud prevention may see it
    assert (await dpo.gql(DECIDE, {"id": objection["id"], "granted": True, "reason": " "})).codes == [
        "BAD_USER_INPUT"]
    decided = (await dpo.gql(DECIDE, {"id": objection["id"], "granted": True,
                                      "reason": "No fraud signals; invoice customer"})).ok()["decideObjection"]
    assert decided["status"] == "COMPLETED"
    assert (decided["report"]["outcome"], decided["report"]["reason"]) == (
        "granted", "No fraud signals; invoice customer")
    stopped = await support.gql(fraud_read, {"id": encode_id("Customer", customer_id)})
    assert stopped.data["customer"]["email"] is None and _reasons(stopped) == {"objected"}
    assert (await support.gql(_read("CUSTOMER_SERVICE"), {"id": encode_id("Customer", customer_id)})).ok()[
        "customer"]["email"] == unique_email
    async with services.db.reader() as session:
        (row,) = (await session.exec(select(ProcessingLimit).where(ProcessingLimit.customer_id == customer_id))).all()
    assert (row.purpose, row.status, row.decision_reason) == (
        "fraud_prevention", "in_force", "No fraud signals; invoice customer")
    assert row.decided_by is not None
    assert (await dpo.gql(DECIDE, {"id": objection["id"], "granted": False, "reason": "x"})).codes == [
        "BAD_USER_INPUT"]


@pytest.mark.policy("P14")
async def test_p14_an_objection_the_dpo_refuses_keeps_the_processing_and_mails_the_customer_why(
    app: Starlette, client: StorefrontClient, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await _logged_in(client, services, unique_email)
    objection = (await client.gql(OBJECT, {"to": "FRAUD_PREVENTION", "grounds": "I dislike it"})).ok()[
        "objectToProcessing"]
    dpo = await staff_client(app, services, "dpo")
    reason = "Chargebacks on the account this year: compelling grounds (Art. 21(1))"
    decided = (await dpo.gql(DECIDE, {"id": objection["id"], "granted": False, "reason": reason})).ok()[
        "decideObjection"]
    assert (decided["status"], decided["report"]["outcome"], decided["report"]["reason"]) == (
        "COMPLETED", "refused", reason)
    (mail,) = await outbox.messages(unique_email, "objection_refused")
    body = mail.get_payload(decode=True).decode()
    assert reason in body and "IMY" in body
    async with services.db.reader() as session:
        limits = (await services.restrictions.limits(session, [customer_id]))[customer_id]
        (row,) = (await session.exec(select(ProcessingLimit).where(ProcessingLimit.customer_id == customer_id))).all()
    assert not limits.objected and (row.status, row.decision_reason) == ("refused", reason)


@pytest.mark.policy("P14")
@pytest.mark.policy("P22")
async def test_p14_p22_the_dpo_registers_emailed_requests_and_the_export_shows_them_with_their_outcome(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await services.consent_ledger.set(ConsentOwner(customer_id, None), "marketing", True, "checkout")
    dpo = await staff_client(app, services, "dpo")
    base = {"customerId": encode_id("Customer", customer_id), "channel": "LETTER",
            "identityVerification": "Letter signed, matched the delivery address"}
    missing = await dpo.gql(REGISTER, {"input": {**base, "kind": "OBJECTION"}})
    assert missing.codes == ["BAD_USER_INPUT"] and _reasons(missing) == {"not_objectable"}
    objection = (await dpo.gql(REGISTER, {"input": {**base, "kind": "OBJECTION", "objectsTo": "DIRECT_MARKETING"}})
                 ).ok()["registerSubjectRequest"]
    assert objection["status"] == "RECEIVED"
    assert (await dpo.gql(RUN, {"id": objection["id"]})).ok()["runSubjectRequest"]["report"]["outcome"] == "stopped"
    restriction = (await dpo.gql(REGISTER, {"input": {**base, "kind": "RESTRICTION", "grounds": "Disputes an invoice"}}
                                 )).ok()["registerSubjectRequest"]
    async with services.db.reader() as session:
        assert not (await services.restrictions.limits(session, [customer_id]))[customer_id].restricted
    ran = await dpo.gql(RUN, {"id": restriction["id"]})
    # The answer is the restricted customer's request: reading it back needs LEGAL_CLAIMS.
    assert _reasons(ran) == {"restricted"}
    async with services.db.reader() as session:
        limits = (await services.restrictions.limits(session, [customer_id]))[customer_id]
    assert limits.restricted and limits.objected == {"marketing", "newsletter", "personalisation"}
    queue = (await dpo.gql("""query @purpose(use: LEGAL_CLAIMS) { subjectRequests(status: COMPLETED, first: 20) {
      edges { node { id kind report } } } }""")).ok()["subjectRequests"]["edges"]
    outcomes = {edge["node"]["kind"]: edge["node"]["report"]["outcome"] for edge in queue
                if edge["node"]["id"] in {objection["id"], restriction["id"]}}
    assert outcomes == {"OBJECTION": "stopped", "RESTRICTION": "restricted"}
    document, html = await export_of(services, customer_id)
    sections = {s["name"]: s for s in document["sections"]}
    requests = [r["values"] for r in sections["subject_requests"]["rows"]]
    assert {(r["kind"], r["status"]) for r in requests} == {("objection", "completed"), ("restriction", "completed")}
    assert any('"outcome": "restricted"' in r["report"] for r in requests)
    limit_rows = [r["values"] for r in sections["processing_limits"]["rows"]]
    assert {(r["kind"], r["status"]) for r in limit_rows} == {("restriction", "in_force"), ("objection", "in_force")}
    assert "Disputes an invoice" in html and "Begränsningar av och invändningar" in html
    rights = {r["right"]: r["how"]["en"] for r in document["rights"]}
    assert "Restrict the use of my data" in rights["restriction"] and "at once" in rights["restriction"]
    assert "Object to direct marketing" in rights["objection"] and "fraud prevention" in rights["objection"]


@pytest.mark.policy("P03")
@pytest.mark.policy("P14")
async def test_p03_a_staff_search_does_not_match_a_restricted_customer_except_for_legal_claims(
    app: Starlette, services: Services
) -> None:
    surname = f"Begr{uuid.uuid4().hex[:8]}"
    restricted = await create_customer(services, f"a.{uuid.uuid4().hex[:6]}@exempel.se", last_name=surname)
    other = await create_customer(services, f"b.{uuid.uuid4().hex[:6]}@exempel.se", last_name=surname)
    await _restrict(services, restricted)
    search = """query($q: String) @purpose(use: {purpose}) { customers(search: $q, first: 10) {
      edges { node { id processingRestricted } } } }"""
    found = {}
    for role, purpose in (("marketing", "MARKETING"), ("support", "CUSTOMER_SERVICE"), ("dpo", "LEGAL_CLAIMS")):
        staff = await staff_client(app, services, role)
        edges = (await staff.gql(search.replace("{purpose}", purpose), {"q": surname})).ok()["customers"]["edges"]
        found[purpose] = {edge["node"]["id"]: edge["node"]["processingRestricted"] for edge in edges}
    assert found["MARKETING"] == {encode_id("Customer", other): False}
    assert found["CUSTOMER_SERVICE"] == {encode_id("Customer", other): False}
    assert found["LEGAL_CLAIMS"] == {encode_id("Customer", other): False, encode_id("Customer", restricted): True}
