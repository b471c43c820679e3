"""A demo catalogue that fits an IT-services shop: prices in SEK minor units (öre), 25 % VAT."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.tables import Product


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    kind: str
    name: str
    description: str
    billing_period: str
    net_minor: int
    domain_tld: str | None = None


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("DOMAIN-SE", "DOMAIN", "Domain registration .se", "A .se domain, registered for one year.",
                "YEARLY", 15_900, "se"),
    DemoProduct("DOMAIN-COM", "DOMAIN", "Domain registration .com", "A .com domain, registered for one year.",
                "YEARLY", 14_900, "com"),
    DemoProduct("DOMAIN-NU", "DOMAIN", "Domain registration .nu", "A .nu domain, registered for one year.",
                "YEARLY", 17_900, "nu"),
    DemoProduct("HOSTING-START", "HOSTING", "Web hosting Start", "10 GB SSD, one site, daily backups.",
                "MONTHLY", 4_900),
    DemoProduct("HOSTING-BUSINESS", "HOSTING", "Web hosting Business",
                "50 GB SSD, ten sites, staging, daily backups.", "MONTHLY", 12_900),
    DemoProduct("HOSTING-PRO", "HOSTING", "Web hosting Pro",
                "200 GB SSD, unlimited sites, dedicated resources.", "MONTHLY", 24_900),
    DemoProduct("SSL-DV", "SSL", "SSL certificate, domain validated", "One domain, issued in minutes.",
                "YEARLY", 49_000),
    DemoProduct("SSL-OV", "SSL", "SSL certificate, organisation validated",
                "The company's name in the certificate.", "YEARLY", 149_000),
    DemoProduct("EMAIL-BASIC", "EMAIL", "E-mail hosting Basic", "One mailbox, 10 GB, spam filter.",
                "MONTHLY", 2_900),
    DemoProduct("EMAIL-PRO", "EMAIL", "E-mail hosting Pro", "One mailbox, 50 GB, shared calendars.",
                "MONTHLY", 5_900),
)


async def seed_catalogue(session: AsyncSession) -> int:
    """Adds the demo products that are missing (by SKU); returns how many were added."""
    existing = set((await session.exec(select(Product.sku))).all())
    added = 0
    for position, item in enumerate(DEMO_PRODUCTS):
        if item.sku in existing:
            continue
        session.add(Product(
            sku=item.sku, kind=item.kind, name=item.name, description=item.description,
            billing_period=item.billing_period, unit_price_net_minor=item.net_minor,
            domain_tld=item.domain_tld, position=position * 10,
        ))
        added += 1
    return added
