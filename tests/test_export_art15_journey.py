"""Issue 11's yardstick, through the storefront API only: a customer who bought on invoice and asked for
the newsletter downloads their data, and the export answers all of Art. 15 (P22, P17, P18): each
recipient (Stripe, Fortnox, Mailchimp) with the purposes and legal bases it serves, the transfer
outside the EU/EEA with its safeguard, how long each category is kept, and every right."""

from __future__ import annotations

import pytest

from shop_privacy.privacy.recipients import RECIPIENTS
from shop_privacy.services import Services

from .helpers import (
    ADD_TO_CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    PASSWORD,
    UPDATE_PROFILE,
    StorefrontClient,
    create_customer,
    login,
    product_ids,
)
from .rights_fixtures import unzip
from .test_export_art15 import RIGHTS

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P22"), pytest.mark.policy("P17"), pytest.mark.policy("P18")]

SET_CONSENT = """mutation($p: ConsentPurpose!, $g: Boolean!, $s: ConsentSource) {
  setConsent(purpose: $p, granted: $g, source: $s) { purpose granted } }"""
REQUEST_EXPORT = """mutation($password: String) { requestDataExport(password: $password) { downloadUrl } }"""


async def test_p22_an_invoice_buyer_with_newsletter_consent_is_told_every_recipient_basis_transfer_period_and_right(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    (await client.gql(SET_CONSENT, {"p": "NEWSLETTER", "g": True, "s": "ACCOUNT_PAGE"})).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-BUSINESS"], "quantity": 1}})).ok()
    (await client.gql(CHECKOUT, {"input": {"paymentMethod": "INVOICE", "idempotencyKey": "art15-journey-01",
                                           "organisationNumber": "5560360793"}})).ok()
    url = (await client.gql(REQUEST_EXPORT, {"password": PASSWORD})).ok()["requestDataExport"]["downloadUrl"]
    document, html = unzip((await client.http.get(url)).content)

    categories = {c["category"]: c for c in document["categories"]}
    email = categories["user.contact.email"]
    told = {r["recipient"]: r for r in email["recipients"]}
    assert {"stripe", "fortnox", "mailchimp"} <= set(told)
    for key in ("stripe", "fortnox", "mailchimp"):
        assert told[key]["name"] == RECIPIENTS[key].name
        assert told[key]["purposes"], key  # what the recipient gets it for, each with its legal basis
    assert told["mailchimp"]["outsideEuEea"] is True and told["mailchimp"]["transfer"]
    assert told["fortnox"]["outsideEuEea"] is False and told["fortnox"]["transfer"] is None
    bases = {p["purpose"]: p["legalBasis"] for p in email["purposes"]}
    assert bases["newsletter"] == "consent" and bases["invoicing"] == "contract"
    assert email["retention"] and email["sources"]
    org_number = categories["user.government_id.org_number"]
    assert {p["purpose"] for p in org_number["purposes"]} >= {"invoicing", "bookkeeping"}
    assert "fortnox" in {r["recipient"] for r in org_number["recipients"]}
    assert {r["right"] for r in document["rights"]} == RIGHTS
    for key in ("stripe", "fortnox", "mailchimp"):
        assert RECIPIENTS[key].name in html
