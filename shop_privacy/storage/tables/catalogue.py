"""The catalogue: what the shop sells. Holds no personal data."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ..columns import not_personal_table, plain_field
from ..types import UTCDateTime, utc_now


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = not_personal_table()

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    sku: str = plain_field(max_length=64, unique=True)
    kind: str = plain_field(max_length=16)  # DOMAIN, HOSTING, SSL, EMAIL
    name: str = plain_field(max_length=200)
    description: str = plain_field(default="", max_length=2000)
    # For DOMAIN products: the top-level domain they register, e.g. "se".
    domain_tld: str | None = plain_field(default=None, max_length=16)
    billing_period: str = plain_field(max_length=16)  # ONE_TIME, MONTHLY, YEARLY
    unit_price_net_minor: int = plain_field()  # excluding VAT, minor units
    currency: str = plain_field(default="SEK", max_length=3)
    vat_rate_basis_points: int = plain_field(default=2500)  # 2500 = 25 %
    active: bool = plain_field(default=True)
    position: int = plain_field(default=0, index=True)  # catalogue order
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
