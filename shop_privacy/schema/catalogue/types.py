"""GraphQL types of the catalogue."""

from __future__ import annotations

import enum

import strawberry

from ...pricing import line_amounts
from ...storage.tables import Product as ProductRow
from ..core.connections import Connection
from ..core.ids import encode_id
from ..core.money import TaxedMoney


@strawberry.enum
class ProductKind(enum.Enum):
    DOMAIN = "DOMAIN"
    HOSTING = "HOSTING"
    SSL = "SSL"
    EMAIL = "EMAIL"


@strawberry.enum
class BillingPeriod(enum.Enum):
    ONE_TIME = "ONE_TIME"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


@strawberry.type(description="A service the shop sells.")
class Product:
    id: strawberry.ID
    sku: str
    kind: ProductKind
    name: str
    description: str
    domain_tld: str | None = strawberry.field(description="For domain registrations: the top-level domain.")
    billing_period: BillingPeriod
    unit_price: TaxedMoney = strawberry.field(description="Price for one unit (one billing period).")
    vat_rate_basis_points: int = strawberry.field(description="VAT rate; 2500 is 25 %.")

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return cls(
            id=encode_id("Product", row.id),
            sku=row.sku,
            kind=ProductKind(row.kind),
            name=row.name,
            description=row.description,
            domain_tld=row.domain_tld,
            billing_period=BillingPeriod(row.billing_period),
            unit_price=TaxedMoney.from_amounts(
                line_amounts(row.unit_price_net_minor, 1, row.vat_rate_basis_points), row.currency
            ),
            vat_rate_basis_points=row.vat_rate_basis_points,
        )


ProductConnection = Connection[Product]
