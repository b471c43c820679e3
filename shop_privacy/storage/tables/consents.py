"""Consent records: append-only, the newest row per customer and purpose is the live state. They are the
proof that a consent was given and withdrawn, so an erasure keeps them (they hold no contact details) for
the legal-claims period after the account is closed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import ACCOUNT_GONE, sweep
from ..columns import ERASED_AT, personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


def _consent(en: str, sv: str, source: str = "data_subject"):  # noqa: ANN202
    return personal(categories="user.consent", purposes=("account", "accountability"), retention="consent_record",
                    erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source=source)


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_subject_purpose", "customer_id", "purpose", "recorded_at"),
        swept(
            sweep("visitor_consents", "visitor_consent", "recorded_at", ACCOUNT_GONE),
            sweep("consents_of_closed_accounts", "consent_record", "account_closed_at"),
            **{ERASED_AT: "account_closed_at"},
        ),
    )

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # A visitor without an account consents against their visitor token; at login it becomes theirs.
    # No foreign key: the proof outlives the account.
    customer_id: uuid.UUID | None = subject_field(default=None)
    visitor_key: str | None = personal_field(_consent("Visitor token (hash)", "Besökstoken (hash)", "system"),
                                             default=None, max_length=64, index=True)
    purpose: str = personal_field(_consent("Purpose consented to", "Ändamål"), max_length=32)
    granted: bool = personal_field(_consent("Consent given (or withdrawn)", "Samtycke lämnat (eller återkallat)"))
    recorded_at: datetime = personal_field(_consent("When", "När", source="system"), default_factory=utc_now,
                                           sa_type=UTCDateTime)
    source: str = plain_field(max_length=32)  # account_page, checkout, cookie_banner, unsubscribe_link, staff
    policy_version: str = plain_field(max_length=32)
    # When the customer's account was erased: the proof is kept for the legal-claims period from then.
    account_closed_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime, index=True)
