"""The DPO's request queue (P14), requests by e-mail, and staff corrections with their history (P23)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.rights.requests import one_month_after
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer, Rectification

from .helpers import Outbox, create_customer, staff_client
from .rights_fixtures import export_of, seed_everything

pytestmark = pytest.mark.anyio

REGISTER = """mutation($input: RegisterRequestInput!) @purpose(use: ACCOUNTABILITY) {
  registerSubjectRequest(input: $input) { id kind status channel receivedAt dueAt identityVerification } }"""
RUN = "mutation($id: ID!) @purpose(use: ACCOUNTABILITY) { runSubjectRequest(id: $id) { id status holdReason report } }"
QUEUE = """query($status: RequestStatus) @purpose(use: ACCOUNTABILITY) { subjectRequests(status: $status, first: 20) {
  edges { node { id kind status dueAt customerId } } } }"""
CORRECT = """mutation($id: ID!, $input: CorrectCustomerInput!) @purpose(use: CUSTOMER_SERVICE) {
  correctCustomer(id: $id, input: $input) { phone address { city } } }"""


def test_p14_a_request_is_due_one_month_after_it_was_received() -> None:
    assert one_month_after(datetime(2026, 1, 31, 12, tzinfo=UTC)) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert one_month_after(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


@pytest.mark.policy("P14")
async def test_p14_the_dpo_registers_an_emailed_erasure_runs_it_and_sees_the_report_in_the_queue(
    app: Starlette, services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    dpo = await staff_client(app, services, "dpo")
    registered = (await dpo.gql(REGISTER, {"input": {
        "customerId": encode_id("Customer", seeded.customer_id), "kind": "ERASURE", "channel": "LETTER",
        "identityVerification": "Signed letter; order number confirmed",
        "receivedAt": "2026-11-02T09:00:00+00:00"}})).ok()["registerSubjectRequest"]
    assert (registered["status"], registered["channel"]) == ("RECEIVED", "LETTER")
    assert registered["dueAt"].startswith("2026-12-02")
    queue = (await dpo.gql(QUEUE, {"status": "RECEIVED"})).ok()["subjectRequests"]["edges"]
    assert [edge["node"]["id"] for edge in queue] == [registered["id"]]
    ran = (await dpo.gql(RUN, {"id": registered["id"]})).ok()["runSubjectRequest"]
    assert ran["status"] == "COMPLETED"
    assert {c["category"] for c in ran["report"]["categories"] if c["outcome"] == "retained"} >= {
        "user.government_id.org_number"}
    async with services.db.reader() as session:
        assert await session.get(Customer, seeded.customer_id) is None
    completed = (await dpo.gql(QUEUE, {"status": "COMPLETED"})).ok()["subjectRequests"]["edges"]
    assert registered["id"] in [edge["node"]["id"] for edge in completed]


@pytest.mark.policy("P14")
async def test_p14_only_the_dpo_works_the_queue_and_identity_must_be_noted(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    support = await staff_client(app, services, "support")
    assert (await support.gql(QUEUE.replace("ACCOUNTABILITY", "CUSTOMER_SERVICE"))).codes == ["FORBIDDEN"]
    dpo = await staff_client(app, services, "dpo")
    blank = await dpo.gql(REGISTER, {"input": {"customerId": encode_id("Customer", customer_id), "kind": "EXPORT",
                                               "channel": "IN_PERSON", "identityVerification": "  "}})
    assert blank.codes == ["BAD_USER_INPUT"]
    assert blank.errors[0]["extensions"]["reason"] == "identity_unverified"


@pytest.mark.policy("P14")
async def test_p14_a_posted_export_request_mails_the_customer_a_link(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    dpo = await staff_client(app, services, "dpo")
    registered = (await dpo.gql(REGISTER, {"input": {
        "customerId": encode_id("Customer", customer_id), "kind": "EXPORT", "channel": "LETTER",
        "identityVerification": "Called back on the phone number on file"}})).ok()["registerSubjectRequest"]
    assert (await dpo.gql(RUN, {"id": registered["id"]})).ok()["runSubjectRequest"]["status"] == "COMPLETED"
    assert await outbox.link_token(unique_email, "data_export")


@pytest.mark.policy("P23")
async def test_p23_a_staff_correction_is_recorded_as_a_request_and_in_the_history(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email, phone="+46701234567")
    support = await staff_client(app, services, "support")
    corrected = (await support.gql(CORRECT, {"id": encode_id("Customer", customer_id), "input": {
        "phone": "070-765 43 21", "address": {"city": "Lund"}}})).data["correctCustomer"]
    assert corrected == {"phone": "+46707654321", "address": {"city": "Lund"}}
    async with services.db.reader() as session:
        history = (await session.exec(select(Rectification))).all()
        customer = await session.get(Customer, customer_id)
    assert customer is not None and (customer.phone, customer.address_city) == ("+46707654321", "Lund")
    me = (await support.gql("{ me { id } }")).ok()["me"]["id"]
    from shop_privacy.schema.core.ids import decode_id

    assert sorted(r.field for r in history) == ["customers.address_city", "customers.phone"]
    assert {r.changed_by for r in history} == {f"staff:{decode_id('StaffMember', me)}"}
    document, _ = await export_of(services, customer_id)
    requests = next(s for s in document["sections"] if s["name"] == "subject_requests")["rows"]
    assert [(r["values"]["kind"], r["values"]["channel"]) for r in requests] == [("rectification", "staff")]
    refused = await support.gql(CORRECT, {"id": encode_id("Customer", customer_id),
                                          "input": {"phone": "4111 1111 1111 1111"}})
    assert refused.codes == ["BAD_USER_INPUT"]
    no_purpose = await support.gql(CORRECT.replace(" @purpose(use: CUSTOMER_SERVICE)", ""),
                                   {"id": encode_id("Customer", customer_id), "input": {"phone": "0701112233"}})
    assert no_purpose.codes == ["FORBIDDEN"]
