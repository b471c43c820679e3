"""Demo data for `shop-privacy serve --demo`: the catalogue and one customer with two orders."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from .carts.service import CartOwner
from .catalogue.demo import seed_catalogue
from .services import Services
from .storage.tables import Customer, Product

DEMO_EMAIL = "demo@example.se"
DEMO_PASSWORD = "Kundvagn-Blå-2026"


@dataclass(frozen=True)
class DemoSeeded:
    products_added: int
    customer_created: bool


async def seed_demo(services: Services) -> DemoSeeded:
    async with services.db.transaction() as session:
        added = await seed_catalogue(session)
        exists = (await session.exec(select(Customer.id).where(Customer.email == DEMO_EMAIL))).first()
        if exists is not None:
            return DemoSeeded(added, False)
        customer = Customer(
            email=DEMO_EMAIL, password_hash=await services.hasher.hash(DEMO_PASSWORD),
            first_name="Demo", last_name="Kund", phone="+46701234567",
            company_name="Demoföretaget AB", company_org_number="556036-0793",
            address_street="Exempelgatan 1", address_postal_code="11122", address_city="Stockholm",
        )
        session.add(customer)
        skus = {p.sku: p.id for p in (await session.exec(select(Product))).all()}
    owner = CartOwner(customer.id, None)
    await services.carts.add(owner, {"product_id": skus["DOMAIN-SE"], "domain_name": "demoforetaget.se"})
    await services.carts.add(owner, {"product_id": skus["HOSTING-START"], "quantity": 12})
    await services.orders.checkout(customer.id, {"payment_method": "INVOICE", "idempotency_key": "demo-order-1"}, None)
    await services.carts.add(owner, {"product_id": skus["SSL-DV"]})
    await services.orders.checkout(customer.id, {"payment_method": "CARD_STRIPE", "idempotency_key": "demo-order-2"},
                                   None)
    return DemoSeeded(added, True)


async def customers_besides_demo(services: Services) -> int:
    """`serve --demo` refuses a database holding real customers: demo data has no place among theirs."""
    from sqlalchemy import func

    async with services.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(Customer)
                                       .where(Customer.email != DEMO_EMAIL))).one())
