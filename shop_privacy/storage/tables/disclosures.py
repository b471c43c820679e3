"""Disclosures to recipients (the log P04/P09/P20 ask for) and the outbox that carries them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Index, Table, Text, and_
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import OneOf, sweep
from ..columns import WITHHELD_FROM_SUBJECT, personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


def _disclosure(en: str, sv: str):  # noqa: ANN202
    return personal(categories="user.privacy.disclosure", purposes=("accountability", "legal_obligation"),
                    retention="disclosure_log", erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source="system")


class DisclosureKind(enum.StrEnum):
    """What went to the recipient: data, or a notice about data it had (also the outbox's kinds)."""

    DISCLOSE = "disclose"
    UNSUBSCRIBE = "unsubscribe"  # consent withdrawn (P09, P27)
    ERASE = "erase"  # erase what you have (P25, Art. 17(2))
    RECTIFY = "rectify"  # a correction of what you have (P23, Art. 19)
    RESTRICT = "restrict"  # keep what you have but do not use it (Art. 18, 19)
    UNRESTRICT = "unrestrict"  # the restriction is lifted (Art. 18(3), 19)


def withheld_from_subject(table: Table, now: datetime) -> ColumnElement[bool]:
    """Disclosures the customer is not shown yet: confidential until a date still to come (P20)."""
    return and_(table.c.confidential_until.is_not(None), table.c.confidential_until > now)


class Disclosure(SQLModel, table=True):
    """That personal data went to a recipient: who, which categories and fields, why, when. Not the values."""

    __tablename__ = "disclosures"
    __table_args__ = swept(sweep("disclosure_log", "disclosure_log", "disclosed_at"),
                           **{WITHHELD_FROM_SUBJECT: withheld_from_subject})

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
    kind: str = personal_field(_disclosure("Kind", "Slag"), default=DisclosureKind.DISCLOSE.value, max_length=16)
    # An authority asked for secrecy (P20): until then the customer is not shown the disclosure.
    confidential_until: datetime | None = personal_field(
        _disclosure("Confidential until", "Sekretess till och med"), default=None, sa_type=UTCDateTime)
    confidential_reason: str | None = personal_field(
        _disclosure("Why it was confidential", "Varför det omfattades av sekretess"), default=None, max_length=500)
    confidential_marked_by: uuid.UUID | None = plain_field(default=None)  # the DPO who marked it


class OutboxMessage(SQLModel, table=True):
    """A message to a recipient, delivered at least once: kept until delivered, retried with backoff.
    Its payload (which may hold personal data) is removed once it is delivered."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      swept(sweep("delivered_messages", "outbox", "created_at", OneOf("status", ("delivered",)))))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID | None = subject_field(default=None, index=True)
    recipient: str = plain_field(max_length=64)
    kind: str = plain_field(max_length=32)  # a DisclosureKind
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
