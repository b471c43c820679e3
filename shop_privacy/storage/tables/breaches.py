"""The breach register (GDPR Art. 33(5)): every personal-data breach, append-only and hash-chained like
the access log. A breach is the rows sharing a `breach_id`; each row is the breach as it stood after
one entry (the first records it, later ones bring it up to date), so its history is the rows in order."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import SQLModel

from ..columns import APPEND_ONLY, plain_field, subject_field
from ..types import UTCDateTime, utc_now


class BreachEntry(SQLModel, table=True):
    __tablename__ = "breach_register"
    # The database refuses UPDATE and DELETE here (triggers, migration 0013). The register describes
    # the breach, not the people in it: categories and counts, no names (docs/requests-and-breaches.md).
    __table_args__ = {"info": {APPEND_ONLY: True}}

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    sequence: int = plain_field(unique=True)  # 1, 2, 3, … without gaps, across all breaches
    breach_id: uuid.UUID = plain_field(index=True)
    recorded_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    recorded_by: uuid.UUID = subject_field(subject="staff", index=True)  # the DPO who wrote the entry
    note: str = plain_field(max_length=1000)  # what this entry adds or changes
    discovered_at: datetime = plain_field(sa_type=UTCDateTime)
    description: str = plain_field(sa_type=Text)
    categories: str = plain_field(max_length=2000)  # taxonomy keys, comma-separated
    subjects_approx: int = plain_field()
    records_approx: int = plain_field()
    consequences: str = plain_field(sa_type=Text)
    measures: str = plain_field(sa_type=Text)
    imy_notified_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    imy_not_notified_reason: str | None = plain_field(default=None, max_length=2000)
    subjects_notified_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    subjects_not_notified_reason: str | None = plain_field(default=None, max_length=2000)
    previous_hash: str = plain_field(max_length=64)
    row_hash: str = plain_field(max_length=64)
