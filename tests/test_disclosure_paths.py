"""Every path by which personal data leaves the shop is a checked, logged disclosure (P04, P08, P09, P16,
P17, P18, P22, P25): domain registration at delivery, printed mailings, server-side analytics, and the
notices that follow a disclosure (unsubscribe, erase); the export lists each of them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy import cli
from shop_privacy.disclosures.service import DisclosureRefused, Received
from shop_privacy.orders.lifecycle import Transition
from shop_privacy.rights.export_html import TEXT
from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer, Disclosure, Order, OutboxMessage
from shop_privacy.storage.tables.disclosures import DisclosureKind

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
    staff_client,
)
from .rights_fixtures import export_of

pytestmark = pytest.mark.anyio

MARK_DELIVERED = """mutation($id: ID!) @purpose(use: ORDER_FULFILMENT) { markOrderDelivered(id: $id) { status } }"""
REGISTRANT = {"first_name", "last_name", "email", "phone", "company_name", "address_street", "address_postal_code",
              "address_city", "address_country"}


async def logged(services: Services, customer_id: uuid.UUID) -> list[Disclosure]:
    async with services.db.read() as session:
        return list((await session.exec(select(Disclosure).where(Disclosure.customer_id == customer_id)
                                        .order_by(col(Disclosure.disclosed_at), col(Disclosure.id)))).all())


async def messages(services: Services, customer_id: uuid.UUID) -> list[OutboxMessage]:
    async with services.db.read() as session:
        return list((await session.exec(select(OutboxMessage).where(OutboxMessage.customer_id == customer_id)
                                        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id)))).all())


def pairs(rows: list[Any]) -> list[tuple[str, str]]:
    return sorted((row.recipient, row.kind) for row in rows)


async def shop_customer(client: StorefrontClient, services: Services, email: str) -> uuid.UUID:
    """A logged-in customer with a complete profile (the client holds the session)."""
    customer_id = await create_customer(services, email, company_name="Exempel AB",
                                        company_org_number="556036-0793")
    (await login(client, email)).ok()
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    return customer_id


async def buy(client: StorefrontClient, sku: str, method: str, key: str, **line: str) -> dict[str, Any]:
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products[sku], **line}})).ok()
    extra = {"organisationNumber": "556036-0793"} if method == "INVOICE" else {}
    return (await client.gql(CHECKOUT, {"input": {"paymentMethod": method, "idempotencyKey": key,
                                                  **extra}})).ok()["checkout"]


async def set_consent(client: StorefrontClient, purpose: str, granted: bool) -> None:
    (await client.gql(f"mutation {{ setConsent(purpose: {purpose}, granted: {str(granted).lower()}) "
                      "{ granted } }")).ok()


async def order_row(services: Services, number: str) -> Order:
    async with services.db.read() as session:
        order = (await session.exec(select(Order).where(Order.order_number == number))).one()
    return order


# The outbox's notices (Disclosures.notify)


@pytest.mark.policy("P17")
@pytest.mark.policy("P25")
async def test_p17_p25_every_outbox_message_is_a_logged_disclosure_or_notice(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    await buy(client, "SSL-DV", "CARD_PAYPAL", "paths-0001")
    await set_consent(client, "NEWSLETTER", True)
    await set_consent(client, "NEWSLETTER", False)
    assert pairs(await logged(services, customer_id)) == pairs(await messages(services, customer_id)) == [
        ("mailchimp", "disclose"), ("mailchimp", "unsubscribe"), ("paypal", "disclose")]
    async with services.db.transaction() as session:  # settled, so that the erasure is not held
        await session.exec(Order.__table__.update().values(status="FULFILLED"))  # type: ignore[attr-defined]
    (await client.gql(f'mutation {{ requestErasure(password: "{PASSWORD}") {{ status }} }}')).ok()

    # The erasure removes the messages that carried data; the log, and the notices, stay.
    rows, queued = await logged(services, customer_id), await messages(services, customer_id)
    assert pairs(rows) == [("mailchimp", "disclose"), ("mailchimp", "erase"), ("mailchimp", "unsubscribe"),
                           ("paypal", "disclose"), ("paypal", "erase")]
    assert pairs(queued) == [("mailchimp", "erase"), ("mailchimp", "unsubscribe"), ("paypal", "erase")]
    by_pair = {(row.recipient, row.kind): row for row in rows}
    # A notice is logged under the purpose its recipient had the data for, with what it carries.
    assert (by_pair["mailchimp", "unsubscribe"].purpose, by_pair["mailchimp", "unsubscribe"].fields) == (
        "newsletter", "customers.email")
    assert (by_pair["paypal", "erase"].purpose, by_pair["paypal", "erase"].legal_basis) == ("payment", "contract")
    assert by_pair["paypal", "erase"].fields == "customers.email"
    for message in queued:
        if message.kind == "erase":
            assert json.loads(message.payload or "{}")["data"] == {"email": unique_email}


@pytest.mark.policy("P17")
async def test_p17_a_notice_to_an_undeclared_recipient_or_purpose_is_refused_and_nothing_is_queued(
    services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    for received, reason in ((Received("data_broker", ("marketing",), frozenset(), frozenset()), "unknown_recipient"),
                             (Received("mailchimp", ("marketing",), frozenset(), frozenset()), "purpose_not_declared")):
        with pytest.raises(DisclosureRefused) as refused:
            async with services.db.transaction() as session:
                await services.disclosures.notify(session, DisclosureKind.ERASE, customer_id, [received],
                                                  source=Customer, data={"email": unique_email})
        assert refused.value.details["reason"] == reason
    assert await logged(services, customer_id) == [] and await messages(services, customer_id) == []


# Domain registries (P08)


@pytest.mark.policy("P08")
async def test_p08_delivering_a_domain_order_sends_the_registrant_to_the_domain_registry_and_logs_it(
    app: Starlette, client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    order = await buy(client, "DOMAIN-SE", "INVOICE", "paths-domain", domainName="gretas-konsult.se")
    assert pairs(await logged(services, customer_id)) == [("fortnox", "disclose")]  # nothing registered yet

    fulfilment = await staff_client(app, services, "fulfilment")
    delivered = (await fulfilment.gql(MARK_DELIVERED, {"id": order["id"]})).ok()["markOrderDelivered"]
    assert delivered == {"status": "DELIVERED_UNPAID"}

    registry = [row for row in await logged(services, customer_id) if row.recipient == "domain_registry"]
    assert [(r.kind, r.purpose, r.legal_basis, r.reference) for r in registry] == [
        ("disclose", "order_fulfilment", "contract", order["number"])]
    assert set(registry[0].fields.split(",")) == {f"orders.{n}" for n in REGISTRANT} | {"order_lines.domain_name"}
    (message,) = [m for m in await messages(services, customer_id) if m.recipient == "domain_registry"]
    data = json.loads(message.payload or "{}")["data"]
    assert data["domain_name"] == "gretas-konsult.se" and data["email"] == unique_email
    assert set(data) == REGISTRANT | {"domain_name"}  # no IP address, no prices, no payment reference


@pytest.mark.policy("P08")
@pytest.mark.policy("P17")
async def test_p08_an_order_without_a_domain_goes_to_no_registry_when_delivered(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    order = await buy(client, "SSL-DV", "CARD_STRIPE", "paths-ssl")
    changed = await services.order_transitions.by_staff(uuid.uuid4(), (await order_row(services, order["number"])).id,
                                                        Transition.DELIVER)
    assert changed.order.status == "FULFILLED"
    assert pairs(await logged(services, customer_id)) == [("stripe", "disclose")]


# Printers and media agencies (P18)


@pytest.mark.policy("P18")
@pytest.mark.policy("P03")
async def test_p18_a_printed_mailing_gives_the_printer_name_and_postal_address_only_with_live_consent(
    services: Services,
) -> None:
    address = {"address_street": "Hamngatan 7", "address_postal_code": "41103", "address_city": "Göteborg"}
    consenting = await create_customer(services, "tryck.ja@exempel.se", phone="+46701234567", **address)
    withdrawn = await create_customer(services, "tryck.nej@exempel.se", **address)
    homeless = await create_customer(services, "tryck.utan@exempel.se")
    never = await create_customer(services, "tryck.aldrig@exempel.se", **address)
    async with services.db.transaction() as session:
        for customer_id in (consenting, withdrawn, homeless):
            await services.consent_ledger.record(session, customer_id, "marketing", True, "account_page")
        await services.consent_ledger.record(session, withdrawn, "marketing", False, "account_page")

    mailing = await services.printed_mailings.send("Vårkampanj 2027")
    assert mailing.sent == [consenting] and mailing.without_address == [homeless]
    assert sorted(mailing.without_consent) == sorted([withdrawn])
    everyone = await services.printed_mailings.send("Höstkampanj 2027", [consenting, never])
    assert everyone.sent == [consenting] and everyone.without_consent == [never]

    rows = await logged(services, consenting)
    assert [(r.recipient, r.purpose, r.legal_basis, r.reference) for r in rows] == [
        ("printer", "marketing", "consent", "Vårkampanj 2027"), ("printer", "marketing", "consent", "Höstkampanj 2027")]
    data = json.loads((await messages(services, consenting))[0].payload or "{}")["data"]
    assert data == {"first_name": "Anna", "last_name": "Svensson", "address_country": "SE", **address}
    for other in (withdrawn, homeless, never):
        assert await logged(services, other) == [] and await messages(services, other) == []


@pytest.mark.policy("P18")
async def test_p18_the_printed_mailing_command_discloses_through_the_same_path(
    services: Services, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    consenting = await create_customer(services, "tryck.cli@exempel.se", address_street="Hamngatan 7",
                                       address_postal_code="41103", address_city="Göteborg")
    never = await create_customer(services, "tryck.cli.nej@exempel.se")
    async with services.db.transaction() as session:
        await services.consent_ledger.record(session, consenting, "marketing", True, "account_page")
    arguments = ["marketing", "printed-mailing", "Nyårskort 2027", "--customer", str(consenting),
                 "--customer", str(never)]
    assert await anyio.to_thread.run_sync(cli.main, arguments) == 0
    output = capsys.readouterr().out
    assert "to the printer: 1; without live consent: 1; without a postal address: 0" in output
    assert "@" not in output and "Hamngatan" not in output
    assert [(r.recipient, r.reference) for r in await logged(services, consenting)] == [("printer", "Nyårskort 2027")]
    assert await logged(services, never) == []


# Google Analytics (P16)


@pytest.mark.policy("P16")
async def test_p16_a_purchase_goes_to_google_analytics_only_with_analytics_consent(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    await buy(client, "SSL-DV", "CARD_STRIPE", "paths-ga-0001")
    assert pairs(await logged(services, customer_id)) == [("stripe", "disclose")]

    await set_consent(client, "ANALYTICS", True)
    second = await buy(client, "SSL-DV", "CARD_STRIPE", "paths-ga-0002")
    analytics = [row for row in await logged(services, customer_id) if row.recipient == "google_analytics"]
    assert [(r.purpose, r.legal_basis, r.fields, r.reference) for r in analytics] == [
        ("analytics", "consent", "orders.ip_address", second["number"])]
    (message,) = [m for m in await messages(services, customer_id) if m.recipient == "google_analytics"]
    assert json.loads(message.payload or "{}")["data"] == {"ip_address": "203.0.113.7"}

    await set_consent(client, "ANALYTICS", False)  # Google Analytics is told, and nothing more goes to it
    await buy(client, "SSL-DV", "CARD_STRIPE", "paths-ga-0003")
    assert [r.kind for r in await logged(services, customer_id) if r.recipient == "google_analytics"] == [
        "disclose", "unsubscribe"]


# The export lists each (P22)


@pytest.mark.policy("P22")
@pytest.mark.policy("P17")
async def test_p22_the_export_lists_every_path_and_says_nothing_went_out_only_when_nothing_did(
    app: Starlette, client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    customer_id = await shop_customer(client, services, unique_email)
    document, html = await export_of(services, customer_id)
    language = document["language"]
    assert document["recipients"] == [] and TEXT["no_recipients"][language] in html

    await set_consent(client, "ANALYTICS", True)
    await set_consent(client, "NEWSLETTER", True)
    await set_consent(client, "MARKETING", True)
    order = await buy(client, "DOMAIN-SE", "INVOICE", "paths-export", domainName="exportera.se")
    fulfilment = await staff_client(app, services, "fulfilment")
    (await fulfilment.gql(MARK_DELIVERED, {"id": order["id"]})).ok()
    await services.printed_mailings.send("Julkort 2026", [customer_id])
    (await client.gql(UPDATE_PROFILE, {"input": {"lastName": "Svensson-Berg"}})).ok()
    await set_consent(client, "NEWSLETTER", False)

    expected = [("domain_registry", "disclose"), ("domain_registry", "rectify"), ("fortnox", "disclose"),
                ("fortnox", "rectify"), ("google_analytics", "disclose"), ("mailchimp", "disclose"),
                ("mailchimp", "rectify"), ("mailchimp", "unsubscribe"), ("printer", "disclose"), ("printer", "rectify")]
    assert pairs(await messages(services, customer_id)) == expected
    document, html = await export_of(services, customer_id)
    assert sorted((r["recipient"], r["kind"]) for r in document["recipients"]) == expected
    (section,) = [s for s in document["sections"] if s["name"] == "disclosures"]
    assert sorted((r["values"]["recipient"], r["values"]["kind"]) for r in section["rows"]) == expected
    assert TEXT["no_recipients"][language] not in html
    for recipient in {key for key, _ in expected}:
        assert f"<td>{recipient}</td>" in html
    assert TEXT["kind_rectify"][language] in html and TEXT["kind_unsubscribe"][language] in html


@pytest.mark.policy("P04")
async def test_p04_a_disclosure_of_several_rows_refuses_columns_that_collide(services: Services,
                                                                           unique_email: str) -> None:
    customer_id = await create_customer(services, unique_email)
    async with services.db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        with pytest.raises(ValueError, match="collides"):
            await services.disclosures.disclose(session, "domain_registry", customer_id=customer_id,
                                                purpose="order_fulfilment", row=[customer, customer])
    assert await logged(services, customer_id) == []
