"""A customer with a value in every declared personal column, for the export and erasure tests."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shop_privacy.audit.access_log import AccessRead
from shop_privacy.services import Services
from shop_privacy.storage.tables import (
    AccountMail,
    AuthSession,
    Cart,
    CartLine,
    Consent,
    Customer,
    Disclosure,
    ErasureLedgerEntry,
    LoginThrottle,
    Order,
    OrderEvent,
    OrderLine,
    OutboxMessage,
    PasswordResetToken,
    PendingRegistration,
    ProcessingLimit,
    Product,
    Rectification,
    SubjectRequest,
)
from shop_privacy.storage.types import utc_now

from .helpers import PASSWORD


@dataclass
class Seeded:
    customer_id: uuid.UUID
    email: str
    phone: str
    ip: str
    names: tuple[str, str]
    invoice_order_id: uuid.UUID
    card_order_id: uuid.UUID


async def seed_everything(services: Services, email: str, *, order_status: str = "FULFILLED",
                          language: str = "sv") -> Seeded:
    """One customer with a value in every personal column of every table that holds their data."""
    now = utc_now()
    phone, ip = "+46701234567", "198.51.100.77"
    async with services.db.transaction() as session:
        product = Product(sku=f"SSL-{uuid.uuid4().hex[:6]}", kind="DOMAIN", name="Domän .se", billing_period="YEARLY",
                          unit_price_net_minor=15900, domain_tld="se")
        session.add(product)
        customer = Customer(
            email=email, password_hash=await services.hasher.hash(PASSWORD), first_name="Greta", last_name="Garbosson",
            phone=phone, company_name="Gretas Konsult AB", company_org_number="556036-0793",
            address_street="Hamngatan 7", address_postal_code="41103", address_city="Göteborg", address_country="SE",
            preferred_language=language, last_login_at=now,
        )
        session.add(customer)
        await session.flush()
        orders = []
        for method, key in (("INVOICE", "seed-invoice"), ("CARD_STRIPE", "seed-card")):
            order = Order(
                customer_id=customer.id, order_number=f"SP-{key}-{uuid.uuid4().hex[:6]}", idempotency_key=key,
                status=order_status, payment_method=method, payment_reference=f"ref-{key}", currency="SEK",
                subtotal_net_minor=15900, vat_minor=3975, total_minor=19875, placed_at=now - timedelta(days=1),
                first_name="Greta", last_name="Garbosson", email=email, phone=phone, company_name="Gretas Konsult AB",
                company_org_number="556036-0793" if method == "INVOICE" else None, address_street="Hamngatan 7",
                address_postal_code="41103", address_city="Göteborg", address_country="SE", ip_address=ip,
            )
            session.add(order)
            orders.append(order)
        await session.flush()
        session.add_all(OrderLine(
            order_id=order.id, sku=product.sku, product_name=product.name, kind="DOMAIN", billing_period="YEARLY",
            domain_name="gretas-konsult.se", quantity=1, unit_price_net_minor=15900, vat_rate_basis_points=2500,
            line_net_minor=15900, line_vat_minor=3975, line_total_minor=19875) for order in orders)
        session.add(OrderEvent(order_id=orders[1].id, transition="pay", from_status="PENDING_PAYMENT",
                               to_status="PAID", provider="stripe", provider_event_id=f"evt_seed_{uuid.uuid4().hex}"))
        cart = Cart(customer_id=customer.id)
        session.add(cart)
        await session.flush()
        session.add(CartLine(cart_id=cart.id, product_id=product.id, domain_name="greta-garbo.se", quantity=2))
        # A cookie consent given as a visitor (before login), with its visitor key.
        session.add(Consent(customer_id=customer.id, purpose="analytics", granted=True, source="cookie_banner",
                            policy_version="2026-11", visitor_key=uuid.uuid4().hex * 2))
        session.add(Disclosure(customer_id=customer.id, recipient="stripe", purpose="payment",
                               legal_basis="contract", categories="user.contact.email", fields="orders.email",
                               reference=orders[1].order_number))
        # A disclosure required by law, whose confidentiality (P20) has ended: shown again.
        session.add(Disclosure(customer_id=customer.id, recipient="Polismyndigheten", purpose="legal_obligation",
                               legal_basis="legal_obligation", categories="user.contact.email", fields="",
                               reference="B 1234-26", confidential_until=now - timedelta(days=1),
                               confidential_reason="Sekretess under förundersökningen"))
        session.add(OutboxMessage(customer_id=customer.id, recipient="stripe", kind="disclose",
                                  payload='{"data": {"email": "' + email + '"}}'))
        session.add(AccountMail(customer_id=customer.id, kind="password_changed", recipient=email,
                                recipient_name="Greta Garbosson", subject="Ditt lösenord har ändrats",
                                body="Hej Greta!", headers='{"X-Seed": "1"}'))
        session.add(AuthSession(customer_id=customer.id, token_hash=uuid.uuid4().hex * 2,
                                expires_at=now + timedelta(days=30), ip_address=ip))
        session.add(PasswordResetToken(customer_id=customer.id, token_hash=uuid.uuid4().hex * 2,
                                       expires_at=now + timedelta(hours=1)))
        session.add(LoginThrottle(key=services.authentication._deps.throttle.keys(email, None).account, failures=2))
        session.add(PendingRegistration(email=email, password_hash="$argon2id$pending", first_name="Greta",
                                        last_name="Garbosson", token_hash=uuid.uuid4().hex * 2,
                                        expires_at=now + timedelta(hours=1)))
        session.add(Rectification(customer_id=customer.id, field="customers.phone", changed_by="customer",
                                  request_id="req-seed"))
        session.add(SubjectRequest(customer_id=customer.id, kind="export", status="completed", channel="email",
                                   due_at=now + timedelta(days=30), completed_at=now, hold_reason="none",
                                   identity_verification="BankID", report='{"seeded": true}',
                                   extended_at=now - timedelta(hours=5), extension_reason="Seeded: many systems",
                                   identity_verified_at=now - timedelta(hours=7)))
        # A refused objection (so it stops nothing), with every column filled.
        session.add(ProcessingLimit(customer_id=customer.id, request_id=uuid.uuid4(), kind="objection",
                                    purpose="fraud_prevention", status="refused", grounds="I never pay late",
                                    decided_at=now, decision_reason="Card fraud on the account in 2026",
                                    lifted_at=now, decided_by=uuid.uuid4()))
        # In life a ledger entry exists once the customer is erased; seeded so that every table has a row.
        session.add(ErasureLedgerEntry(request_id=uuid.uuid4(), customer_id=customer.id,
                                       email_hash=services.rights.ledger.email_hash(email),
                                       erased_at=now - timedelta(days=1), channel="self_service"))
    await services.access_log.append([AccessRead(uuid.uuid4(), customer.id, "customer_service",
                                                 frozenset({"user.contact.email"}), frozenset({"customers.email"}),
                                                 "req-seed")])
    return Seeded(customer.id, email, phone, ip, ("Greta", "Garbosson"), orders[0].id, orders[1].id)


def unzip(data: bytes) -> tuple[dict[str, Any], str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["data.json", "index.html"]
    return json.loads(archive.read("data.json")), archive.read("index.html").decode()


async def export_of(services: Services, customer_id: uuid.UUID,
                    now: datetime | None = None) -> tuple[dict[str, Any], str]:
    subject = await services.rights.export.subject(customer_id)
    assert subject is not None
    return unzip(b"".join([chunk async for chunk in services.rights.export.zip_stream(subject, now)]))
