"""Customers and registrations waiting for their e-mail to be confirmed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, Mask, personal
from ...privacy.retention import sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now

_ACCOUNT = ("account", "order_fulfilment", "customer_service")
_CONTACT = ("account", "order_fulfilment", "payment", "customer_service")
# The postal address also goes on printed mailings, with marketing consent (P18).
_ADDRESS = (*_CONTACT, "marketing")


def new_security_stamp() -> str:
    return uuid.uuid4().hex


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    id: uuid.UUID = subject_field(is_key=True, default_factory=uuid.uuid4, primary_key=True)
    # Stored lower-cased, so the unique index makes addresses unique case-insensitively.
    email: str = personal_field(
        personal(categories="user.contact.email", purposes=(*_CONTACT, "newsletter", "marketing"),
                 retention="account", erasure=Erasure.DELETE, mask=Mask.EMAIL,
                 en="E-mail address", sv="E-postadress"),
        max_length=254, unique=True, index=True,
    )
    password_hash: str = personal_field(
        personal(categories="user.authorization.credentials", purposes="account", retention="account",
                 erasure=Erasure.DELETE, en="Password (one-way hash)", sv="Lösenord (envägshash)"),
        max_length=512,
    )
    first_name: str = personal_field(
        personal(categories="user.name.first", purposes=(*_CONTACT, "newsletter", "marketing"),
                 retention="account", erasure=Erasure.DELETE, en="First name", sv="Förnamn"),
        max_length=100,
    )
    last_name: str = personal_field(
        personal(categories="user.name.last", purposes=(*_CONTACT, "newsletter", "marketing"),
                 retention="account", erasure=Erasure.DELETE, en="Last name", sv="Efternamn"),
        max_length=100,
    )
    phone: str | None = personal_field(
        personal(categories="user.contact.phone_number", purposes=_CONTACT, retention="account",
                 erasure=Erasure.DELETE, mask=Mask.PHONE, en="Phone number", sv="Telefonnummer"),
        default=None, max_length=32,
    )
    company_name: str | None = personal_field(
        personal(categories="user.contact.organization", purposes=(*_CONTACT, "bookkeeping"),
                 retention="account", erasure=Erasure.DELETE, en="Company name", sv="Företagsnamn"),
        default=None, max_length=200,
    )
    # Only kept when the customer pays by invoice or enters it themselves (P05).
    company_org_number: str | None = personal_field(
        personal(categories="user.government_id.org_number", purposes=("invoicing", "bookkeeping"),
                 retention="account", erasure=Erasure.DELETE,
                 en="Organisation number", sv="Organisationsnummer"),
        default=None, max_length=11,
    )
    address_street: str | None = personal_field(
        personal(categories="user.contact.address.street", purposes=_ADDRESS, retention="account",
                 erasure=Erasure.DELETE, mask=Mask.ADDRESS_CITY, en="Street address", sv="Gatuadress"),
        default=None, max_length=200,
    )
    address_postal_code: str | None = personal_field(
        personal(categories="user.contact.address.postal_code", purposes=_ADDRESS, retention="account",
                 erasure=Erasure.DELETE, mask=Mask.ADDRESS_CITY, en="Postal code", sv="Postnummer"),
        default=None, max_length=16,
    )
    address_city: str | None = personal_field(
        personal(categories="user.contact.address.city", purposes=_ADDRESS, retention="account",
                 erasure=Erasure.DELETE, mask=Mask.KEEP, en="City", sv="Ort"),
        default=None, max_length=100,
    )
    address_country: str = personal_field(
        personal(categories="user.contact.address.country", purposes=_ADDRESS, retention="account",
                 erasure=Erasure.DELETE, mask=Mask.KEEP, en="Country", sv="Land"),
        default="SE", max_length=2,
    )
    preferred_language: str = personal_field(
        personal(categories="user.account.preferences", purposes=_ACCOUNT, retention="account",
                 erasure=Erasure.DELETE, en="Preferred language", sv="Föredraget språk"),
        default="sv", max_length=2,
    )
    created_at: datetime = personal_field(
        personal(categories="user.account.status", purposes="account", retention="account",
                 erasure=Erasure.DELETE, en="Account created", sv="Kontot skapades", source="system"),
        default_factory=utc_now, sa_type=UTCDateTime,
    )
    updated_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    last_login_at: datetime | None = personal_field(
        personal(categories="user.account.status", purposes=("account", "fraud_prevention"),
                 retention="account", erasure=Erasure.DELETE, en="Last login", sv="Senaste inloggning",
                 source="system"),
        default=None, sa_type=UTCDateTime,
    )
    password_changed_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    # Changes with every password change or reset, logout everywhere and e-mail change (asked for,
    # confirmed or stopped): an e-mail-change link is valid only for the stamp it was made with.
    security_stamp: str = plain_field(default_factory=lambda: new_security_stamp(), max_length=32)
    # When the customer was told an inactive account will be erased (the retention sweep).
    inactivity_warned_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)


class PendingRegistration(SQLModel, table=True):
    """A registration whose e-mail address is not confirmed yet; becomes a customer on confirmation."""

    __tablename__ = "pending_registrations"
    __table_args__ = swept(sweep("unconfirmed_registrations", "pending_registration", "expires_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    email: str = personal_field(
        personal(categories="user.contact.email", purposes="account", retention="pending_registration",
                 erasure=Erasure.DELETE, mask=Mask.EMAIL, en="E-mail address (unconfirmed)",
                 sv="E-postadress (ej bekräftad)"),
        max_length=254, index=True,
    )
    password_hash: str = personal_field(
        personal(categories="user.authorization.credentials", purposes="account",
                 retention="pending_registration", erasure=Erasure.DELETE,
                 en="Password (one-way hash)", sv="Lösenord (envägshash)"),
        max_length=512,
    )
    first_name: str = personal_field(
        personal(categories="user.name.first", purposes="account", retention="pending_registration",
                 erasure=Erasure.DELETE, en="First name", sv="Förnamn"),
        max_length=100,
    )
    last_name: str = personal_field(
        personal(categories="user.name.last", purposes="account", retention="pending_registration",
                 erasure=Erasure.DELETE, en="Last name", sv="Efternamn"),
        max_length=100,
    )
    preferred_language: str = personal_field(
        personal(categories="user.account.preferences", purposes="account", retention="pending_registration",
                 erasure=Erasure.DELETE, en="Preferred language", sv="Föredraget språk"),
        default="sv", max_length=2,
    )
    token_hash: str = plain_field(max_length=64, unique=True)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = plain_field(sa_type=UTCDateTime, index=True)
