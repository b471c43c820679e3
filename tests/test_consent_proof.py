"""Consent records as proof (P11, P24, P27): an erasure keeps the proof that a consent was given and
withdrawn (a legal obligation), without any contact details, for three years after the account is
closed; then the retention sweep removes it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from shop_privacy.consents.ledger import ConsentOwner
from shop_privacy.rights.requests import Channel, RequestKind
from shop_privacy.services import Services
from shop_privacy.storage.tables import Consent, Customer

from .helpers import create_customer
from .test_rights_erasure import where_found

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P11"), pytest.mark.policy("P24"), pytest.mark.policy("P27")]


async def _consents(services: Services, customer_id: object) -> list[Consent]:
    async with services.db.reader() as session:
        return list((await session.exec(select(Consent).where(Consent.customer_id == customer_id)
                                        .order_by(col(Consent.recorded_at)))).all())


async def test_p27_erasure_keeps_the_proof_of_consent_and_withdrawal_without_contact_details_then_it_is_swept(
    services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email, first_name="Ingrid", last_name="Bevisson",
                                        phone="+46709876543")
    owner = ConsentOwner(customer_id, None)
    await services.consent_ledger.set(owner, "newsletter", True, "checkout")
    await services.consent_ledger.set(owner, "newsletter", False, "account_page")
    await services.consent_ledger.set(owner, "marketing", True, "account_page")
    given = [(c.purpose, c.granted, c.source, c.recorded_at) for c in await _consents(services, customer_id)]
    assert len(given) == 3

    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, customer_id, RequestKind.ERASURE, Channel.EMAIL)
    erased = await services.rights.run(request.id)
    assert erased.status == "completed"
    report = json.loads(erased.report or "{}")
    erased_at = datetime.fromisoformat(report["erasedAt"])
    (kept,) = [c for c in report["categories"] if c["category"] == "user.consent"]
    assert kept["outcome"] == "retained" and "legal_obligation" in " ".join(kept["reasons"])
    assert kept["until"] == (erased_at + timedelta(days=3 * 365)).date().isoformat()

    async with services.db.reader() as session:
        assert await session.get(Customer, customer_id) is None
    proof = await _consents(services, customer_id)
    # What was consented to and withdrawn, when and where, stays; the account's clock starts now.
    assert [(c.purpose, c.granted, c.source, c.recorded_at) for c in proof] == given
    assert {c.account_closed_at for c in proof} == {erased_at}
    # No contact details of the customer in the proof. (Elsewhere only the erasure's own confirmation mail
    # and the notice asking Mailchimp to erase them, which go once delivered.)
    hits = await where_found(services, [unique_email, "Ingrid", "Bevisson", "+46709876543"])
    assert {table for table, _ in hits} <= {"account_mails", "outbox_messages"}

    # Kept for the legal-claims period after the account closed, then swept.
    inside = await services.retention.run(now=erased_at + timedelta(days=3 * 365) - timedelta(minutes=1))
    assert inside.steps["consents_of_closed_accounts"] == 0 and len(await _consents(services, customer_id)) == 3
    past = await services.retention.run(now=erased_at + timedelta(days=3 * 365) + timedelta(minutes=1))
    assert past.steps["consents_of_closed_accounts"] == 3 and await _consents(services, customer_id) == []
