"""The plugin's table: its own SQLModel registry, so its metadata (and its migrations) are its own and the
package's `SQLModel.metadata` never sees it. Every column is declared, as the package's are."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shop_privacy.privacy.declarations import Erasure, Mask, personal
from shop_privacy.privacy.retention import sweep
from shop_privacy.storage.columns import personal_field, plain_field, subject_field, swept
from shop_privacy.storage.types import UTCDateTime, utc_now

from .vocabulary import SUPPORT, SUPPORT_REQUEST, TICKET_RETENTION


class SupportTicketsModel(SQLModel, registry=registry()):
    """The base of the plugin's tables; `SupportTicketsModel.metadata` is the plugin's metadata."""


def _ticket(en: str, sv: str, *, mask: Mask = Mask.NONE) -> object:
    return personal(categories=SUPPORT_REQUEST, purposes=SUPPORT, retention=TICKET_RETENTION,
                    erasure=Erasure.DELETE, en=en, sv=sv, mask=mask)


class SupportTicket(SupportTicketsModel, table=True):
    __tablename__ = "support_tickets"
    # The retention sweep deletes tickets two years after they were closed: no code of the plugin's own.
    __table_args__ = swept(sweep("closed_support_tickets", TICKET_RETENTION, "closed_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    # The data subject: export and erasure find a customer's tickets by this column.
    customer_id: uuid.UUID = subject_field(index=True)
    subject: str = personal_field(_ticket("Subject", "Ämne"), max_length=200)  # type: ignore[arg-type]
    # Free text: whatever the customer chose to write. Card numbers are refused on the way in (P06).
    body: str = personal_field(_ticket("Message", "Meddelande"), sa_type=Text)  # type: ignore[arg-type]
    status: str = plain_field(default="open", max_length=16)
    opened_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    closed_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime, index=True)


METADATA = SupportTicketsModel.metadata
