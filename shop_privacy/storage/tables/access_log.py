"""The access log: every staff read of personal data, append-only and hash-chained."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ..columns import APPEND_ONLY, personal_field, plain_field, subject_field
from ..types import UTCDateTime, utc_now


def _log(en: str, sv: str):  # noqa: ANN202
    return personal(categories="user.privacy.access_log", purposes="accountability", retention="access_log",
                    erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source="system")


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    # The database refuses UPDATE and DELETE here (triggers): erasure reports these rows as kept and
    # never touches them; only the log's own retention handling may cut it, from the oldest end.
    __table_args__ = {"info": {APPEND_ONLY: True}}

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    sequence: int = plain_field(unique=True)  # 1, 2, 3, … without gaps
    recorded_at: datetime = personal_field(_log("Read at", "Läst"), default_factory=utc_now, sa_type=UTCDateTime)
    # No foreign keys: the log outlives the accounts it mentions.
    staff_user_id: uuid.UUID = subject_field(subject="staff", index=True)
    subject_id: uuid.UUID = subject_field(index=True)
    purpose: str = personal_field(_log("Purpose of the read", "Ändamål med läsningen"), max_length=32)
    categories: str = personal_field(_log("Categories read", "Kategorier som lästes"), max_length=2000)
    fields: str = personal_field(_log("Fields read", "Fält som lästes"), max_length=4000)
    request_id: str = plain_field(max_length=64)
    previous_hash: str = plain_field(max_length=64)
    row_hash: str = plain_field(max_length=64)
