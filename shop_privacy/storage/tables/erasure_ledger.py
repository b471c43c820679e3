"""The erasure ledger: one row per completed erasure, so that a restored backup, which still holds the
erased customer, can be erased again (`shop-privacy rights reapply`). It holds nothing but what finds
the subject again in such a copy: their id and a keyed hash of their e-mail address."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime


def _ledger(category: str, en: str, sv: str):  # noqa: ANN202
    # Kept through a later erasure too: it is what keeps the erasure from being undone by a restore.
    return personal(categories=category, purposes="accountability", retention="erasure_ledger",
                    erasure=Erasure.KEEP_FOR_LEGAL_REASON, en=en, sv=sv, source="system")


class ErasureLedgerEntry(SQLModel, table=True):
    __tablename__ = "erasure_ledger"
    # No backup is older than the rule's period (the setting `backup_retention_days`): none can bring the
    # customer back any more.
    __table_args__ = swept(sweep("erasure_ledger", "erasure_ledger", "erased_at"))

    # One entry per erasure request: recording one twice (a re-applied erasure) changes nothing.
    request_id: uuid.UUID = plain_field(primary_key=True)
    # No foreign key: the entry exists because the customer row does not.
    customer_id: uuid.UUID = subject_field(index=True)
    # HMAC-SHA256 of the normalised address, under a key derived from the shop's secret key: it finds
    # a restored row with that address, and cannot be turned back into the address without the key.
    email_hash: str = personal_field(
        _ledger("user.unique_id.pseudonymous", "E-mail address (keyed hash)", "E-postadress (nyckelhash)"),
        max_length=64, index=True,
    )
    erased_at: datetime = personal_field(_ledger("user.privacy.erasure", "Erased", "Raderad"), sa_type=UTCDateTime,
                                         index=True)
    channel: str = personal_field(_ledger("user.privacy.erasure", "Requested through", "Begärd via"),
                                  max_length=16)
