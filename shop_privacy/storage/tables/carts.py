"""Carts (anonymous or a customer's) and their lines. Prices are read live from the catalogue."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import ACCOUNT_GONE, sweep
from ..columns import parent_field, personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


class Cart(SQLModel, table=True):
    __tablename__ = "carts"
    # An account's cart lasts as long as the account; an anonymous one a while after its last change.
    __table_args__ = swept(sweep("anonymous_carts", "anonymous_cart", "updated_at", ACCOUNT_GONE))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # One active cart per customer; NULL while anonymous.
    customer_id: uuid.UUID | None = subject_field(
        default=None, foreign_key="customers.id", unique=True, ondelete="CASCADE"
    )
    # SHA-256 of the random part of the anonymous cart's signed cookie token.
    token_hash: str | None = plain_field(default=None, max_length=64, unique=True)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = personal_field(
        personal(categories="user.behavior.shopping_cart", purposes=("order_fulfilment", "marketing"),
                 retention="anonymous_cart", erasure=Erasure.DELETE, en="Cart last changed",
                 sv="Varukorgen senast ändrad", source="system"),
        default_factory=utc_now, sa_type=UTCDateTime, index=True,
    )


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("cart_id", "product_id", "domain_name", name="uq_cart_line_item"),)

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    cart_id: uuid.UUID = parent_field("carts", foreign_key="carts.id", index=True, ondelete="CASCADE")
    product_id: uuid.UUID = personal_field(
        personal(categories="user.behavior.shopping_cart", purposes=("order_fulfilment", "marketing"),
                 retention="anonymous_cart", erasure=Erasure.DELETE, en="Product in the cart",
                 sv="Produkt i varukorgen"),
        foreign_key="products.id",
    )
    # The domain to register, for DOMAIN products; '' otherwise (so the unique constraint holds).
    domain_name: str = personal_field(
        personal(categories="user.behavior.purchase_history.domain_name", purposes="order_fulfilment",
                 retention="anonymous_cart", erasure=Erasure.DELETE, en="Domain name",
                 sv="Domännamn"),
        default="", max_length=253,
    )
    quantity: int = personal_field(
        personal(categories="user.behavior.shopping_cart", purposes=("order_fulfilment", "marketing"),
                 retention="anonymous_cart", erasure=Erasure.DELETE, en="Quantity", sv="Antal"),
    )
    added_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
