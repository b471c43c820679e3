"""Disclosures to recipients (the log P04/P09/P20 ask for) and the outbox that carries them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ..columns import personal_field, plain_field, subject_field
from ..types import UTCDateTime, utc_now


def _disclosure(en: str, sv: str):  # noqa: ANN202
    return personal(categories="user.privacy.disclosure", purposes=("accountability", "legal_obligation"),
                    retention="disclosure_log", erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source="system")


class Disclosure(SQLModel, table=True):
    """That personal data went to a recipient: who, which categories and fields, why, when. Not the values."""

    __tablename__ = "disclosures"

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # No foreign key: the record outlives the account (it tells an erasure whom to ask to erase too).
    customer_id: uuid.UUID = subject_field(index=True)
    recipient: str = personal_field(_disclosure("Recipient", "Mottagare"), max_length=200)
    purpose: str = personal_field(_disclosure("Purpose", "Ändamål"), max_length=32)
    legal_basis: str = personal_field(_disclosure("Legal basis", "Rättslig grund"), max_length=32)
    categories: str = personal_field(_disclosure("Categories disclosed", "Kategorier som lämnades ut"),
                                     max_length=2000)
    fields: str = personal_field(_disclosure("Fields disclosed", "Fält som lämnades ut"), max_length=4000)
    disclosed_at: datetime = personal_field(_disclosure("Disclosed", "Utlämnat"), default_factory=utc_now,
                                            sa_type=UTCDateTime)
    # The order, or for a disclosure required by law, the court order or request it answers (P20).
    reference: str | None = personal_field(_disclosure("Reference", "Referens"), default=None, max_length=500)
    recorded_by: uuid.UUID | None = plain_field(default=None)  # the staff member who recorded it


class OutboxMessage(SQLModel, table=True):
    """A message to a recipient, delivered at least once: kept until delivered, retried with backoff.
    Its payload (which may hold personal data) is removed once it is delivered."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID | None = subject_field(default=None, index=True)
    recipient: str = plain_field(max_length=64)
    kind: str = plain_field(max_length=32)  # disclose, unsubscribe, erase
    payload: str | None = personal_field(personal(
        categories="user", purposes=("payment", "invoicing", "newsletter", "marketing", "analytics",
                                     "order_fulfilment", "legal_obligation", "accountability"),
        retention="outbox", erasure=Erasure.DELETE, kept_if="erasure_notice", en="Message to a recipient",
        sv="Meddelande till mottagare", source="system"), default=None, sa_type=Text)
    status: str = plain_field(default="pending", max_length=16)  # pending, delivered, failed
    attempts: int = plain_field(default=0)
    next_attempt_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    delivered_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    last_error: str | None = plain_field(default=None, max_length=200)  # an error's type, never its message
