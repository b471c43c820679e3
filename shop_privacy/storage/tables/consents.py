"""Consent records: append-only, the newest row per customer and purpose is the live state."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ..columns import personal_field, plain_field, subject_field
from ..types import UTCDateTime, utc_now


def _consent(en: str, sv: str, source: str = "data_subject"):  # noqa: ANN202
    return personal(categories="user.consent", purposes=("account", "accountability"), retention="consent_record",
                    erasure=Erasure.DELETE, en=en, sv=sv, source=source)


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_purpose", "customer_id", "purpose", "recorded_at"),)

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # A visitor without an account consents against their visitor token; at login it becomes theirs.
    customer_id: uuid.UUID | None = subject_field(default=None, foreign_key="customers.id", ondelete="CASCADE")
    visitor_key: str | None = personal_field(_consent("Visitor token (hash)", "Besökstoken (hash)", "system"),
                                             default=None, max_length=64, index=True)
    purpose: str = personal_field(_consent("Purpose consented to", "Ändamål"), max_length=32)
    granted: bool = personal_field(_consent("Consent given (or withdrawn)", "Samtycke lämnat (eller återkallat)"))
    recorded_at: datetime = personal_field(_consent("When", "När", source="system"), default_factory=utc_now,
                                           sa_type=UTCDateTime)
    source: str = plain_field(max_length=32)  # account_page, checkout, cookie_banner, unsubscribe_link, staff
    policy_version: str = plain_field(max_length=32)
