"""Restrictions of processing (GDPR Art. 18) and objections to it (Art. 21): what a customer has stopped,
why, who decided, and when it was lifted."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ..columns import personal_field, plain_field, subject_field
from ..types import UTCDateTime, utc_now


def _limit(en: str, sv: str, source: str = "system"):  # noqa: ANN202
    # Kept while the account is: an objection to direct marketing holds for good, a restriction until lifted.
    return personal(categories="user.privacy.rights_request", purposes=("accountability", "customer_service"),
                    retention="account", erasure=Erasure.DELETE, en=en, sv=sv, source=source)


class ProcessingLimit(SQLModel, table=True):
    """One restriction (no purpose: every use but storage) or one objection (to one purpose), from the
    request that asked for it: pending until in force (or refused), in force until lifted."""

    __tablename__ = "processing_limits"
    __table_args__ = (Index("ix_processing_limits_subject_status", "customer_id", "status"),)

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = subject_field(foreign_key="customers.id", ondelete="CASCADE")
    request_id: uuid.UUID = plain_field(index=True)  # the subject request that asked for it
    kind: str = personal_field(_limit("Restriction or objection", "Begränsning eller invändning", "data_subject"),
                               max_length=16)
    purpose: str | None = personal_field(_limit("Use objected to", "Behandling som invändningen gäller",
                                                "data_subject"), default=None, max_length=32)
    status: str = personal_field(_limit("Status", "Status"), max_length=16)
    grounds: str | None = personal_field(_limit("Your grounds", "Dina skäl", "data_subject"), default=None,
                                         max_length=1000)
    requested_at: datetime = personal_field(_limit("Asked for", "Begärd"), default_factory=utc_now,
                                            sa_type=UTCDateTime)
    decided_at: datetime | None = personal_field(_limit("Decided", "Beslutad"), default=None, sa_type=UTCDateTime)
    # The DPO's recorded reason for granting or refusing an objection, or for lifting a restriction.
    decision_reason: str | None = personal_field(_limit("Reason for the decision", "Skäl för beslutet", "shop"),
                                                 default=None, max_length=1000)
    lifted_at: datetime | None = personal_field(_limit("Lifted", "Upphävd"), default=None, sa_type=UTCDateTime)
    decided_by: uuid.UUID | None = plain_field(default=None)  # the staff member (None: the customer)
