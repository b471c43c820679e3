"""Orders and their lines: a snapshot of prices, VAT and the customer's contact at order time (P07); and
the record of each change of an order's state (paid, delivered, cancelled, refunded)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, Mask, PersonalData, personal
from ...privacy.retention import ACCOUNT_GONE, NotNull, sweep
from ..columns import parent_field, personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now

# The payer's details on an order: for delivering it, taking payment, invoicing and answering questions.
_FULFIL = ("order_fulfilment", "payment", "invoicing", "customer_service")


def _contact(category: str, en: str, sv: str, *, mask: Mask = Mask.NONE, kept_if: str | None = None,
             purposes: tuple[str, ...] = _FULFIL) -> PersonalData:
    """Contact details copied onto the order; removed at erasure unless `kept_if` holds."""
    return personal(
        categories=category, purposes=purposes, retention="order_contact",
        erasure=Erasure.NULL, mask=mask, kept_if=kept_if, en=en, sv=sv,
    )


def _accounting(category: str, en: str, sv: str, *, source: str = "system") -> PersonalData:
    """Part of the accounting minimum: kept for the bookkeeping period even after erasure (P13)."""
    return personal(
        categories=category, purposes=("order_fulfilment", "bookkeeping", "customer_service"),
        retention="bookkeeping", erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source=source,
    )


_HISTORY = "user.behavior.purchase_history"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_order_idempotency"),
        # Order history, newest first, is a keyset scan of this index.
        Index("ix_orders_customer_placed", "customer_id", "placed_at", "id"),
        # A payment provider's callback finds its order by the provider's payment reference.
        Index("ix_orders_payment_reference", "payment_reference"),
        swept(
            # What the accounts no longer need: orders whose customer is gone, past the Bookkeeping Act
            # (their lines and events go with them).
            sweep("accounting_minimum", "bookkeeping", "placed_at", ACCOUNT_GONE),
            sweep("order_ip_addresses", "order_ip_address", "placed_at", NotNull("ip_address"), reduce=True),
        ),
    )

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID | None = subject_field(
        default=None, foreign_key="customers.id", ondelete="SET NULL"
    )
    order_number: str = personal_field(
        _accounting(_HISTORY, "Order number", "Ordernummer"), max_length=32, unique=True
    )
    idempotency_key: str = plain_field(max_length=64)
    status: str = personal_field(_accounting(_HISTORY, "Order status", "Orderstatus"), max_length=24)
    payment_method: str = personal_field(
        _accounting(_HISTORY, "Payment method", "Betalsätt", source="data_subject"), max_length=16
    )
    # Only the provider's reference: the shop never sees a card number (P06).
    payment_reference: str | None = personal_field(
        _accounting("user.financial.payment_reference", "Payment reference", "Betalningsreferens"),
        default=None, max_length=128,
    )
    currency: str = personal_field(_accounting(_HISTORY, "Currency", "Valuta"), max_length=3)
    subtotal_net_minor: int = personal_field(_accounting(_HISTORY, "Amount excl. VAT", "Belopp exkl. moms"))
    vat_minor: int = personal_field(_accounting(_HISTORY, "VAT", "Moms"))
    total_minor: int = personal_field(_accounting(_HISTORY, "Total incl. VAT", "Totalt inkl. moms"))
    placed_at: datetime = personal_field(
        _accounting(_HISTORY, "Order date", "Orderdatum"), default_factory=utc_now, sa_type=UTCDateTime,
        index=True,
    )
    updated_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)

    first_name: str | None = personal_field(
        _contact("user.name.first", "First name", "Förnamn"), default=None, max_length=100
    )
    last_name: str | None = personal_field(
        _contact("user.name.last", "Last name", "Efternamn"), default=None, max_length=100
    )
    email: str | None = personal_field(
        _contact("user.contact.email", "E-mail address", "E-postadress", mask=Mask.EMAIL),
        default=None, max_length=254,
    )
    phone: str | None = personal_field(
        _contact("user.contact.phone_number", "Phone number", "Telefonnummer", mask=Mask.PHONE),
        default=None, max_length=32,
    )
    company_name: str | None = personal_field(
        _contact("user.contact.organization", "Company name", "Företagsnamn", kept_if="invoice_order",
                 purposes=(*_FULFIL, "bookkeeping")),
        default=None, max_length=200,
    )
    # Only for invoice orders (P05).
    company_org_number: str | None = personal_field(
        _contact("user.government_id.org_number", "Organisation number", "Organisationsnummer",
                 kept_if="invoice_order", purposes=("invoicing", "bookkeeping")),
        default=None, max_length=11,
    )
    address_street: str | None = personal_field(
        _contact("user.contact.address.street", "Street address", "Gatuadress", mask=Mask.ADDRESS_CITY,
                 kept_if="invoice_order", purposes=(*_FULFIL, "bookkeeping")),
        default=None, max_length=200,
    )
    address_postal_code: str | None = personal_field(
        _contact("user.contact.address.postal_code", "Postal code", "Postnummer", mask=Mask.ADDRESS_CITY,
                 kept_if="invoice_order", purposes=(*_FULFIL, "bookkeeping")),
        default=None, max_length=16,
    )
    address_city: str | None = personal_field(
        _contact("user.contact.address.city", "City", "Ort", kept_if="invoice_order", mask=Mask.KEEP,
                 purposes=(*_FULFIL, "bookkeeping")),
        default=None, max_length=100,
    )
    address_country: str | None = personal_field(
        _contact("user.contact.address.country", "Country", "Land", kept_if="invoice_order", mask=Mask.KEEP,
                 purposes=(*_FULFIL, "bookkeeping")),
        default=None, max_length=2,
    )
    # The client's address at checkout (P07), with its own short retention; with analytics consent it
    # also goes to Google Analytics with the purchase (P16).
    ip_address: str | None = personal_field(
        personal(categories="user.device.ip_address", purposes=("fraud_prevention", "payment", "analytics"),
                 retention="order_ip_address", erasure=Erasure.NULL, en="IP address at checkout",
                 sv="IP-adress vid beställning", source="system"),
        default=None, max_length=45,
    )


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = parent_field("orders", foreign_key="orders.id", index=True, ondelete="CASCADE")
    position: int = plain_field(default=0)
    product_id: uuid.UUID | None = plain_field(default=None, foreign_key="products.id", ondelete="SET NULL")
    sku: str = personal_field(_accounting(_HISTORY, "Article number", "Artikelnummer"), max_length=64)
    product_name: str = personal_field(_accounting(_HISTORY, "Service", "Tjänst"), max_length=200)
    kind: str = personal_field(_accounting(_HISTORY, "Kind of service", "Typ av tjänst"), max_length=16)
    billing_period: str = personal_field(_accounting(_HISTORY, "Billing period", "Period"), max_length=16)
    # The registered domain (P08): registrant data is the order's contact, declared above.
    domain_name: str | None = personal_field(
        _accounting(f"{_HISTORY}.domain_name", "Domain name", "Domännamn", source="data_subject"),
        default=None, max_length=253,
    )
    quantity: int = personal_field(_accounting(_HISTORY, "Quantity", "Antal", source="data_subject"))
    unit_price_net_minor: int = personal_field(_accounting(_HISTORY, "Unit price excl. VAT", "À-pris exkl. moms"))
    vat_rate_basis_points: int = personal_field(_accounting(_HISTORY, "VAT rate", "Momssats"))
    line_net_minor: int = personal_field(_accounting(_HISTORY, "Line amount excl. VAT", "Radbelopp exkl. moms"))
    line_vat_minor: int = personal_field(_accounting(_HISTORY, "Line VAT", "Moms på raden"))
    line_total_minor: int = personal_field(_accounting(_HISTORY, "Line total incl. VAT", "Radbelopp inkl. moms"))


class OrderEvent(SQLModel, table=True):
    """One change of an order's state: what, when, and who made it (a staff member's id, or a payment
    provider's event id), never who the customer is. Part of the accounting record (P13)."""

    __tablename__ = "order_events"
    __table_args__ = (
        # A provider's event changes an order once, however often it is delivered: the insert that records
        # it is what claims it. Staff changes have no provider (NULLs never collide).
        UniqueConstraint("provider", "provider_event_id", name="uq_order_event_provider_event"),
    )

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = parent_field("orders", foreign_key="orders.id", index=True, ondelete="CASCADE")
    transition: str = personal_field(_accounting(_HISTORY, "Change of the order", "Ändring av beställningen"),
                                     max_length=16)
    from_status: str = personal_field(_accounting(_HISTORY, "Status before", "Status före"), max_length=24)
    to_status: str = personal_field(_accounting(_HISTORY, "Status after", "Status efter"), max_length=24)
    occurred_at: datetime = personal_field(_accounting(_HISTORY, "Changed", "Ändrad"), default_factory=utc_now,
                                           sa_type=UTCDateTime)
    staff_user_id: uuid.UUID | None = plain_field(default=None)  # the staff member who made the change
    provider: str | None = plain_field(default=None, max_length=16)  # stripe, paypal, swish
    provider_event_id: str | None = personal_field(
        _accounting("user.financial.payment_reference", "Payment provider's event", "Betalleverantörens händelse"),
        default=None, max_length=255,
    )
