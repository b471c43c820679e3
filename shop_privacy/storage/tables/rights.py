"""Data-subject requests (the DPO's queue) and the history of corrections to personal data."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import OneOf, sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


def _request(en: str, sv: str, source: str = "system"):  # noqa: ANN202
    return personal(categories="user.privacy.rights_request", purposes=("accountability", "customer_service"),
                    retention="rights_request", erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source=source)


# The statuses of a request still being worked on (see rights.requests.RequestStatus).
OPEN_REQUEST_SQL = "status IN ('received', 'on_hold')"


class SubjectRequest(SQLModel, table=True):
    """A request under GDPR Art. 15–22 (export, erasure, rectification), due a month after receipt."""

    __tablename__ = "subject_requests"
    __table_args__ = (
        Index("ix_subject_requests_queue", "status", "due_at"),
        # One open request per subject and kind: two sweeps, or two clicks, cannot open a second one.
        Index("uq_subject_requests_open", "customer_id", "kind", unique=True,
              sqlite_where=text(OPEN_REQUEST_SQL), postgresql_where=text(OPEN_REQUEST_SQL)),
        swept(sweep("handled_requests", "rights_request", "received_at", OneOf("status", ("completed", "cancelled")))),
    )

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # No foreign key: the record of how a request was handled outlives the account it was about.
    customer_id: uuid.UUID = subject_field(index=True)
    kind: str = personal_field(_request("Kind of request", "Typ av begäran", "data_subject"), max_length=16)
    status: str = personal_field(_request("Status", "Status"), max_length=16)
    channel: str = personal_field(_request("Received through", "Mottagen via"), max_length=16)
    received_at: datetime = personal_field(_request("Received", "Mottagen"), default_factory=utc_now,
                                           sa_type=UTCDateTime)
    due_at: datetime = personal_field(_request("Due", "Ska vara klar"), sa_type=UTCDateTime)
    completed_at: datetime | None = personal_field(_request("Completed", "Klar"), default=None, sa_type=UTCDateTime)
    hold_reason: str | None = personal_field(_request("Why it waits", "Varför den väntar"), default=None,
                                             max_length=500)
    # How the DPO verified the identity of someone who asked by e-mail or letter.
    identity_verification: str | None = personal_field(
        _request("How identity was verified", "Hur identiteten kontrollerades", "shop"), default=None, max_length=500
    )
    report: str | None = personal_field(_request("Outcome (JSON)", "Utfall (JSON)"), default=None, sa_type=Text)
    registered_by: uuid.UUID | None = plain_field(default=None)  # the staff member who registered it
    download_token_hash: str | None = plain_field(default=None, max_length=64)
    # Art. 12(3): the DPO may extend the month once, by up to two more; `due_at` is then the new date.
    extended_at: datetime | None = personal_field(_request("Deadline extended", "Tidsfristen förlängd", "shop"),
                                                  default=None, sa_type=UTCDateTime)
    extension_reason: str | None = personal_field(
        _request("Why the deadline was extended", "Varför tidsfristen förlängdes", "shop"), default=None,
        max_length=500)
    extended_by: uuid.UUID | None = plain_field(default=None)  # the staff member who extended it
    # A request by e-mail waits until the link mailed to the account's address is followed.
    identity_challenge_hash: str | None = plain_field(default=None, max_length=64)
    identity_verified_at: datetime | None = personal_field(
        _request("Identity confirmed by the mailed link", "Identiteten bekräftad via länk i e-post"), default=None,
        sa_type=UTCDateTime)
    # The last reminder to the DPO about this request's deadline: at most one a day per state.
    reminder_state: str | None = plain_field(default=None, max_length=16)
    reminded_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)


class Rectification(SQLModel, table=True):
    """That a personal field was changed: which, when, by whom, through which request. Not the old value."""

    __tablename__ = "rectifications"
    __table_args__ = swept(sweep("rectification_history", "rectification", "changed_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = subject_field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    field: str = personal_field(personal(
        categories="user.privacy.rectification", purposes=("account", "accountability"), retention="rectification",
        erasure=Erasure.DELETE, en="Field changed", sv="Ändrat fält", source="system"), max_length=80)
    changed_at: datetime = personal_field(personal(
        categories="user.privacy.rectification", purposes=("account", "accountability"), retention="rectification",
        erasure=Erasure.DELETE, en="Changed", sv="Ändrat", source="system"), default_factory=utc_now,
        sa_type=UTCDateTime)
    changed_by: str = personal_field(personal(
        categories="user.privacy.rectification", purposes=("account", "accountability"), retention="rectification",
        erasure=Erasure.DELETE, en="Changed by", sv="Ändrat av", source="system"), max_length=64)
    request_id: str = plain_field(max_length=64)
