"""Disclosures required by law that an authority asked to keep secret (P20): the DPO marks one
confidential with a reason and an end date; until then the customer's export leaves it out (and does
not claim that nothing went out); the DPO sees it as confidential; after the end date it is shown."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from starlette.applications import Starlette

from shop_privacy.rights.export_html import TEXT
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import Disclosure
from shop_privacy.storage.types import utc_now

from .helpers import StorefrontClient, create_customer, staff_client
from .rights_fixtures import export_of

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P20")]

RECORD = """mutation($c: ID!) @purpose(use: LEGAL_OBLIGATION) { recordLegalDisclosure(input: {
  customerId: $c, recipient: "Polismyndigheten", legalReference: "Editionsföreläggande B 1234-26",
  categories: ["user.contact.email"]}) { id confidential } }"""
MARK = """mutation($i: ConfidentialDisclosureInput!) @purpose(use: LEGAL_OBLIGATION) {
  markDisclosureConfidential(input: $i) { id recipient confidential confidentialReason confidentialUntil } }"""
LIST = """query($c: ID!) @purpose(use: ACCOUNTABILITY) { disclosures(customerId: $c) {
  recipient kind confidential confidentialReason confidentialUntil } }"""
REASON = "Polisen begär sekretess under förundersökningen (dnr 5000-K123-26)"


async def _legal_disclosure(dpo: StorefrontClient, customer_id: uuid.UUID) -> str:
    recorded = (await dpo.gql(RECORD, {"c": encode_id("Customer", customer_id)})).ok()["recordLegalDisclosure"]
    assert recorded["confidential"] is False
    return str(recorded["id"])


async def test_p20_a_confidential_legal_disclosure_is_kept_from_the_customer_until_its_end_date(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    dpo = await staff_client(app, services, "dpo")
    disclosure_id = await _legal_disclosure(dpo, customer_id)
    until = (utc_now() + timedelta(days=90)).replace(microsecond=0)
    marked = (await dpo.gql(MARK, {"i": {"disclosureId": disclosure_id, "reason": f"  {REASON} ",
                                         "until": until.isoformat()}})).ok()["markDisclosureConfidential"]
    assert marked == {"id": disclosure_id, "recipient": "Polismyndigheten", "confidential": True,
                      "confidentialReason": REASON, "confidentialUntil": until.isoformat()}
    # The DPO sees it, as confidential, with the reason and the end date.
    listed = (await dpo.gql(LIST, {"c": encode_id("Customer", customer_id)})).ok()["disclosures"]
    assert listed == [{"recipient": "Polismyndigheten", "kind": "DISCLOSE", "confidential": True,
                       "confidentialReason": REASON, "confidentialUntil": until.isoformat()}]

    # The customer's export leaves it out entirely, and does not say that nothing went out.
    document, html = await export_of(services, customer_id)
    language = document["language"]
    assert document["recipients"] == []
    (section,) = [s for s in document["sections"] if s["name"] == "disclosures"]
    assert section["rows"] == []
    for text in (json.dumps(document, ensure_ascii=False), html):
        assert "Polismyndigheten" not in text and "B 1234-26" not in text and "förundersökningen" not in text
    assert TEXT["no_recipients"][language] not in html and TEXT["none_listed"][language] in html

    # After the end date it is shown like any other disclosure.
    document, html = await export_of(services, customer_id, now=until + timedelta(seconds=1))
    assert [(r["recipient"], r["reference"]) for r in document["recipients"]] == [
        ("Polismyndigheten", "Editionsföreläggande B 1234-26")]
    (section,) = [s for s in document["sections"] if s["name"] == "disclosures"]
    assert [row["values"]["recipient"] for row in section["rows"]] == ["Polismyndigheten"]
    assert "Polismyndigheten" in html and TEXT["none_listed"][language] not in html


async def test_p20_only_the_dpo_marks_only_a_legal_disclosure_confidential_with_a_reason_and_a_future_end(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    dpo = await staff_client(app, services, "dpo")
    legal = await _legal_disclosure(dpo, customer_id)
    async with services.db.transaction() as session:
        payment = Disclosure(customer_id=customer_id, recipient="stripe", purpose="payment", legal_basis="contract",
                             categories="user.contact.email", fields="orders.email")
        session.add(payment)
    future, past = (utc_now() + timedelta(days=30)).isoformat(), (utc_now() - timedelta(days=1)).isoformat()

    async def mark(client: StorefrontClient, disclosure_id: str, reason: str, until: str) -> list[str]:
        answer = await client.gql(MARK, {"i": {"disclosureId": disclosure_id, "reason": reason, "until": until}})
        assert answer.data == {"markDisclosureConfidential": None}
        return answer.codes

    support = await staff_client(app, services, "support")
    assert await mark(support, legal, REASON, future) == ["FORBIDDEN"]
    assert await mark(dpo, legal, REASON, past) == ["BAD_USER_INPUT"]
    assert await mark(dpo, legal, "   ", future) == ["BAD_USER_INPUT"]
    assert await mark(dpo, encode_id("Disclosure", payment.id), REASON, future) == ["BAD_USER_INPUT"]
    assert await mark(dpo, encode_id("Disclosure", uuid.uuid4()), REASON, future) == ["NOT_FOUND"]
    listed = (await dpo.gql(LIST, {"c": encode_id("Customer", customer_id)})).ok()["disclosures"]
    assert {(d["recipient"], d["confidential"], d["confidentialReason"]) for d in listed} == {
        ("Polismyndigheten", False, None), ("stripe", False, None)}
    document, _ = await export_of(services, customer_id)
    assert sorted(r["recipient"] for r in document["recipients"]) == ["Polismyndigheten", "stripe"]
