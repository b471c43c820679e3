"""Account mails waiting to go out, and for a short while after: the durable mail queue.

A mail is written here in the same transaction as the change it reports (a transactional outbox), so
it exists exactly when the change does; delivery then retries until the mail server takes it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, PersonalData, personal
from ...privacy.retention import OneOf, sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


def _mail(categories: str, en: str, sv: str) -> PersonalData:
    # Removed by an erasure, and by the retention sweep a short time after the mail has gone out.
    return personal(categories=categories, purposes="account", retention="account_mail", erasure=Erasure.DELETE,
                    en=en, sv=sv, source="system")


_FINISHED = OneOf("status", ("sent", "failed"))


class AccountMail(SQLModel, table=True):
    """One mail to one address: queued until the mail server accepts it, then sent (or failed after
    the allowed attempts). Its address and content are cleared a few days after that."""

    __tablename__ = "account_mails"
    __table_args__ = (
        Index("ix_account_mails_due", "status", "next_attempt_at"),
        swept(
            # A mail's address and text (its links, too) only until shortly after it went out or was given up;
            # the bare record (id, kind, status) a while longer, for `outbox status`.
            sweep("sent_mail_contents", "account_mail", ("sent_at", "failed_at"), _FINISHED, reduce=True),
            sweep("sent_mail_records", "account_mail_record", "created_at", _FINISHED),
        ),
    )

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)  # also the X-Shop-Mail-Id
    # The account the mail concerns; none for a registration not yet confirmed, or once the account is
    # erased (the erasure's own confirmation). No foreign key: the erasure-done mail outlives the account.
    customer_id: uuid.UUID | None = subject_field(default=None, index=True)
    kind: str = plain_field(max_length=32)  # e.g. password_reset: what logs and `outbox status` show
    recipient: str | None = personal_field(_mail("user.contact.email", "Address a mail went to",
                                                 "Adress ett mejl skickades till"), default=None, max_length=320)
    recipient_name: str | None = personal_field(_mail("user.name", "Name a mail was addressed to",
                                                      "Namn ett mejl adresserades till"), default=None,
                                                max_length=400)
    subject: str | None = personal_field(_mail("user.account", "Subject of a mail to you",
                                               "Ämne på ett mejl till dig"), default=None, max_length=998)
    body: str | None = personal_field(_mail("user.account", "Text of a mail to you", "Text i ett mejl till dig"),
                                      default=None, sa_type=Text)
    # Extra headers as JSON (e.g. List-Unsubscribe, whose URL carries a token).
    headers: str | None = personal_field(_mail("user.account", "Headers of a mail to you",
                                               "Huvuden i ett mejl till dig"), default=None, sa_type=Text)
    status: str = plain_field(default="queued", max_length=16)  # queued, sent, failed
    attempts: int = plain_field(default=0)
    next_attempt_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    sent_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)  # given up after the last attempt
    last_error: str | None = plain_field(default=None, max_length=200)  # an error's type, never its message
