"""The queue of data-subject requests the DPO works (P14): each due one month after receipt."""

from __future__ import annotations

import calendar
import enum
import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import NotFound
from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.locks import lock_customer
from ..storage.tables import Customer, SubjectRequest
from ..storage.types import utc_now

_CURSOR = "request"


class RequestKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"  # Art. 18: kept but not used
    OBJECTION = "objection"  # Art. 21: to direct marketing, or to a use resting on a legitimate interest


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# Matches the partial unique index of `subject_requests` (storage.tables.rights.OPEN_REQUEST_SQL).
OPEN_STATUSES = (RequestStatus.RECEIVED.value, RequestStatus.ON_HOLD.value)


class Channel(enum.StrEnum):
    SELF_SERVICE = "self_service"  # the customer, through the account
    EMAIL = "email"  # arrived by e-mail, registered by the DPO; the identity confirmed by a mailed link
    LETTER = "letter"  # arrived by post, registered by the DPO with a note of how the identity was checked
    IN_PERSON = "in_person"  # asked in person, registered by the DPO with such a note
    STAFF = "staff"  # staff acting on the customer's behalf (a correction)
    RETENTION = "retention"  # the retention sweep, for an account inactive too long


def months_after(moment: datetime, months: int) -> datetime:
    """The same day `months` months later, or that month's last day."""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def one_month_after(moment: datetime) -> datetime:
    """GDPR Art. 12(3): within one month of receipt; the same day next month, or its last day."""
    return months_after(moment, 1)


class RequestQueue:
    def __init__(self, max_page_size: int) -> None:
        self._max_page_size = max_page_size

    def open(self, session: AsyncSession, customer_id: uuid.UUID, kind: RequestKind, channel: Channel, *,
             received_at: datetime | None = None, registered_by: uuid.UUID | None = None,
             identity_verification: str | None = None) -> SubjectRequest:
        received = received_at or utc_now()
        request = SubjectRequest(
            customer_id=customer_id, kind=kind.value, status=RequestStatus.RECEIVED.value, channel=channel.value,
            received_at=received, due_at=one_month_after(received), registered_by=registered_by,
            identity_verification=identity_verification,
        )
        session.add(request)
        return request

    async def open_of(self, session: AsyncSession, customer_id: uuid.UUID, kind: RequestKind) -> SubjectRequest | None:
        """The subject's request of this kind still being worked on, if any (at most one: a constraint)."""
        query = select(SubjectRequest).where(
            SubjectRequest.customer_id == customer_id, SubjectRequest.kind == kind.value,
            col(SubjectRequest.status).in_(OPEN_STATUSES),
        )
        return (await session.exec(query)).first()

    async def lock(self, session: AsyncSession, request_id: uuid.UUID) -> SubjectRequest | None:
        query = select(SubjectRequest).where(SubjectRequest.id == request_id).with_for_update()
        return (await session.exec(query.execution_options(populate_existing=True))).first()

    async def lock_with_customer(self, session: AsyncSession,
                                 request_id: uuid.UUID) -> tuple[Customer | None, SubjectRequest]:
        """The request and its customer (None once erased), both locked: the customer first, then the
        request, the order every writer of a customer's data keeps (checkout, login, carts, erasure), so
        they take turns and never deadlock. Raises NotFound for an unknown request."""
        found = await session.get(SubjectRequest, request_id)
        if found is None:
            raise NotFound("No such request.")
        customer = await lock_customer(session, found.customer_id)
        request = await self.lock(session, request_id)
        if request is None:
            raise NotFound("No such request.")
        return customer, request

    async def page(self, session: AsyncSession, status: RequestStatus | None, *, first: int,
                   after: str | None) -> Page[SubjectRequest]:
        """Soonest due first."""
        first = check_page_size(first, self._max_page_size)
        query = select(SubjectRequest)
        if status is not None:
            query = query.where(SubjectRequest.status == status.value)
        if after is not None:
            due_at, after_id = decode_cursor(_CURSOR, after, datetime.fromisoformat, uuid.UUID)
            query = query.where((col(SubjectRequest.due_at) > due_at)
                                | ((col(SubjectRequest.due_at) == due_at) & (col(SubjectRequest.id) > after_id)))
        rows = list((await session.exec(
            query.order_by(col(SubjectRequest.due_at), col(SubjectRequest.id)).limit(first + 1))).all())
        return page_of(rows, first, after, lambda r: encode_cursor(_CURSOR, r.due_at.isoformat(), str(r.id)))

    async def due_by(self, session: AsyncSession, moment: datetime) -> list[SubjectRequest]:
        """Open requests due by `moment` (overdue ones included), soonest due first: what the DPO must
        answer, or extend, now (Art. 12(3))."""
        query = select(SubjectRequest).where(col(SubjectRequest.status).in_(OPEN_STATUSES),
                                             col(SubjectRequest.due_at) <= moment)
        return list((await session.exec(query.order_by(col(SubjectRequest.due_at), col(SubjectRequest.id)))).all())

    async def for_customer(self, session: AsyncSession, customer_id: uuid.UUID) -> list[SubjectRequest]:
        query = select(SubjectRequest).where(SubjectRequest.customer_id == customer_id)
        return list((await session.exec(query.order_by(col(SubjectRequest.received_at).desc()))).all())
