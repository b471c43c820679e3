"""The retention sweep (P11, P13), the record of processing, abandoned-cart reminders (P19)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import SQLModel, col, select

from shop_privacy import ropa
from shop_privacy.consents.ledger import ConsentOwner
from shop_privacy.privacy.recipients import RECIPIENTS
from shop_privacy.services import Services
from shop_privacy.storage.inventory import declared_columns
from shop_privacy.storage.tables import (
    AuthSession,
    Cart,
    CartLine,
    Customer,
    LoginThrottle,
    Order,
    OrderLine,
    PasswordResetToken,
    PendingRegistration,
    Product,
)
from shop_privacy.storage.types import utc_now

from .helpers import Outbox, create_customer, seed_orders
from .test_rights_erasure import snapshot

pytestmark = pytest.mark.anyio

NOW = utc_now()


async def _count(services: Services, model: type[SQLModel], *where) -> int:  # noqa: ANN002
    async with services.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _seed(services: Services, catalogue: dict) -> dict[str, uuid.UUID]:
    """Of each kind, one row past its retention and one within it."""
    fresh = await create_customer(services, "fresh@exempel.se", last_login_at=NOW)
    old_order, new_order = await seed_orders(services, fresh, 2, lines=1)
    erased_old, erased_recent = await seed_orders(services, fresh, 2, lines=2)
    async with services.db.transaction() as session:
        await session.exec(update(Order).where(Order.id == old_order).values(
            placed_at=NOW - timedelta(days=91), ip_address="203.0.113.1"))
        await session.exec(update(Order).where(Order.id == new_order).values(
            placed_at=NOW - timedelta(days=89), ip_address="203.0.113.2"))
        # Orders of an erased customer: one past seven years after its fiscal year, one inside.
        await session.exec(update(Order).where(Order.id == erased_old).values(
            customer_id=None, placed_at=datetime(NOW.year - 8, 12, 31, tzinfo=UTC)))
        await session.exec(update(Order).where(Order.id == erased_recent).values(
            customer_id=None, placed_at=datetime(NOW.year - 7, 1, 2, tzinfo=UTC)))
        product = (await session.exec(select(Product).limit(1))).one()
        for age in (31, 29):
            cart = Cart(token_hash=uuid.uuid4().hex * 2, updated_at=NOW - timedelta(days=age))
            session.add(cart)
            await session.flush()
            session.add(CartLine(cart_id=cart.id, product_id=product.id, quantity=1))
        for days in (31, 29):  # sessions that ended this long ago
            session.add(AuthSession(customer_id=fresh, token_hash=uuid.uuid4().hex * 2,
                                    expires_at=NOW - timedelta(days=days), ip_address="198.51.100.1"))
        for hours in (25, 23):
            session.add(PasswordResetToken(customer_id=fresh, token_hash=uuid.uuid4().hex * 2,
                                           created_at=NOW - timedelta(hours=hours), expires_at=NOW))
        for minutes in (-5, 5):
            session.add(PendingRegistration(email=f"p{minutes}@exempel.se", password_hash="x", first_name="P",
                                            last_name="Q", token_hash=uuid.uuid4().hex * 2,
                                            expires_at=NOW + timedelta(minutes=minutes)))
        session.add(LoginThrottle(key="acct:old", failures=2, window_started_at=NOW - timedelta(days=2)))
        session.add(LoginThrottle(key="acct:new", failures=2, window_started_at=NOW - timedelta(hours=1)))
    return {"fresh": fresh, "old_order": old_order, "new_order": new_order, "erased_old": erased_old,
            "erased_recent": erased_recent}


@pytest.mark.policy("P11")
@pytest.mark.policy("P13")
async def test_p11_p13_a_retention_run_removes_exactly_what_is_due_and_a_second_run_nothing(
    services: Services, catalogue: dict
) -> None:
    ids = await _seed(services, catalogue)
    before = await snapshot(services)
    dry = await services.retention.run(dry_run=True, now=NOW)
    assert await snapshot(services) == before  # a dry run changes nothing
    result = await services.retention.run(now=NOW)
    assert result.steps == dry.steps
    assert {k: v for k, v in result.steps.items() if v} == {
        "accounting_minimum": 1, "anonymous_carts": 1, "order_ip_addresses": 1, "sessions": 1,
        "password_reset_links": 1, "unconfirmed_registrations": 1, "failed_login_counters": 1}
    async with services.db.reader() as session:
        old, new = await session.get(Order, ids["old_order"]), await session.get(Order, ids["new_order"])
        assert await session.get(Order, ids["erased_old"]) is None
        assert await session.get(Order, ids["erased_recent"]) is not None
    assert old is not None and new is not None
    assert (old.ip_address, new.ip_address) == (None, "203.0.113.2")
    assert await _count(services, OrderLine, col(OrderLine.order_id) == ids["erased_old"]) == 0
    assert await _count(services, Cart) == 1 and await _count(services, CartLine) == 1
    assert await _count(services, AuthSession) == 1 and await _count(services, PasswordResetToken) == 1
    assert await _count(services, PendingRegistration) == 1 and await _count(services, LoginThrottle) == 1
    after = await snapshot(services)
    again = await services.retention.run(now=NOW)
    assert set(again.steps.values()) == {0} and await snapshot(services) == after


@pytest.mark.policy("P11")
async def test_p11_two_runs_at_once_do_not_conflict(services: Services, catalogue: dict) -> None:
    ids = await _seed(services, catalogue)
    first, second = await asyncio.gather(services.retention.run(now=NOW), services.retention.run(now=NOW))
    for step in ("accounting_minimum", "anonymous_carts", "order_ip_addresses", "sessions"):
        assert first.steps[step] + second.steps[step] == 1, step
    async with services.db.reader() as session:
        assert await session.get(Order, ids["erased_old"]) is None


@pytest.mark.policy("P11")
async def test_p11_an_inactive_account_is_warned_then_erased(
    services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email, last_login_at=NOW - timedelta(days=3 * 365 - 10))
    await create_customer(services, "active." + unique_email, last_login_at=NOW - timedelta(days=10))
    warned = await services.retention.run(now=NOW)
    assert (warned.warned, warned.erased) == (1, 0)
    assert await outbox.messages(unique_email, "inactivity_warning")
    assert (await services.retention.run(now=NOW)).warned == 0  # warned once
    later = await services.retention.run(now=NOW + timedelta(days=31))
    assert later.erased == 1
    async with services.db.reader() as session:
        assert await session.get(Customer, customer_id) is None
        assert len((await session.exec(select(Customer))).all()) == 1


def test_the_record_of_processing_comes_from_the_declarations_and_the_recipients(settings) -> None:  # noqa: ANN001
    record = ropa.build(settings, declared_columns(), RECIPIENTS)
    purposes = {p["purpose"]: p for p in record["purposes"]}
    assert "user.government_id.org_number" in purposes["invoicing"]["categoriesOfData"]
    assert purposes["newsletter"]["needsConsent"] and purposes["bookkeeping"]["legalBasis"] == "legal_obligation"
    assert "Fortnox AB" in purposes["invoicing"]["recipients"]
    assert {t["recipient"] for t in record["transfersOutsideEuEea"]} >= {
        "The Rocket Science Group LLC (Mailchimp)"}
    assert record["controller"]["dpoEmail"] == settings.dpo_email
    markdown, html = ropa.render(record, "md"), ropa.render(record, "html")
    assert "## Purposes" in markdown and "IMY" in markdown and "<h2>Recipients</h2>" in html
    assert any("argon2id" in m for m in record["securityMeasures"])


@pytest.mark.policy("P19")
async def test_p19_abandoned_cart_reminders_only_with_live_marketing_consent(
    services: Services, outbox: Outbox, catalogue: dict
) -> None:
    yes = await create_customer(services, "ja@exempel.se")
    no = await create_customer(services, "nej@exempel.se")
    withdrawn = await create_customer(services, "inte-langre@exempel.se")
    from shop_privacy.carts.service import CartOwner

    for customer_id in (yes, no, withdrawn):
        await services.carts.add(CartOwner(customer_id, None), {"product_id": catalogue["SSL-DV"]})
    await services.consent_ledger.set(ConsentOwner(yes, None), "marketing", True, "checkout")
    await services.consent_ledger.set(ConsentOwner(withdrawn, None), "marketing", True, "checkout")
    await services.consent_ledger.set(ConsentOwner(withdrawn, None), "marketing", False, "account_page")
    async with services.db.transaction() as session:
        await session.exec(update(Cart).values(updated_at=NOW - timedelta(days=2)))
    candidates = await services.abandoned_carts.candidates(timedelta(hours=24))
    assert [c.customer_id for c in candidates] == [yes]
    assert candidates[0].gross_minor == 61250
    assert await services.abandoned_carts.send_reminders(timedelta(hours=24)) == 1
    (reminder,) = await outbox.messages("ja@exempel.se", "abandoned_cart")
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not await outbox.messages("nej@exempel.se") and not await outbox.messages("inte-langre@exempel.se")
