"""Deadlines of data-subject requests (GDPR Art. 12(3), P14): a month from receipt, which the DPO may
extend once, within that month, by up to two more months, telling the customer why; and reminders to
the DPO of requests about to be late, or late."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import col

from ..errors import BadUserInput, Conflict
from ..mail.queue import MailQueue
from ..mail.templates import compose, request_kind
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import SubjectRequest
from ..storage.types import utc_now
from .overdue import DueRequest, due_requests
from .requests import OPEN_STATUSES, RequestQueue, months_after, one_month_after

logger = logging.getLogger("shop_privacy.rights")

MAX_EXTENSION_MONTHS = 2  # Art. 12(3): "extended by two further months where necessary"
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Reminded:
    """What one reminder round did: the requests the DPO was told about now (none: no mail)."""

    requests: list[DueRequest]
    mail_id: uuid.UUID | None


class RequestDeadlines:
    def __init__(self, db: Database, settings: Settings, mails: MailQueue, queue: RequestQueue) -> None:
        self._db = db
        self._settings = settings
        self._mails = mails
        self._queue = queue

    async def extend(self, staff_id: uuid.UUID, request_id: uuid.UUID, months: int, reason: str, *,
                     now: datetime | None = None) -> SubjectRequest:
        """Push the due date `months` (1 or 2) past the first month's end, once, while that month runs;
        the customer's mail with the new date and the reason is queued in the same transaction."""
        now = now or utc_now()
        reason = reason.strip()
        if not reason:
            raise BadUserInput("Say why the request needs more time; the customer is told.", reason="reason_required")
        if len(reason) > MAX_REASON_LENGTH:
            raise BadUserInput(f"The reason may be at most {MAX_REASON_LENGTH} characters.", reason="reason_too_long")
        if not 1 <= months <= MAX_EXTENSION_MONTHS:
            raise BadUserInput(f"A request can be extended by one or {MAX_EXTENSION_MONTHS} further months.",
                               reason="extension_too_long")
        async with self._db.transaction() as session:
            customer, request = await self._queue.lock_with_customer(session, request_id)
            if request.status not in OPEN_STATUSES:
                raise Conflict("Only an open request can be extended.", reason="request_closed")
            if request.extended_at is not None:
                raise Conflict("This request was extended already; it can be extended only once.",
                               reason="already_extended")
            first_month_ends = one_month_after(request.received_at)
            if now > first_month_ends:
                raise BadUserInput("The extension must be given within the first month after receipt.",
                                   reason="first_month_over", dueAt=first_month_ends.isoformat())
            if customer is None:
                raise Conflict("The customer's account is gone: nobody can be told of an extension.",
                               reason="customer_gone")
            request.due_at = months_after(first_month_ends, months)
            request.extended_at, request.extension_reason, request.extended_by = now, reason, staff_id
            session.add(request)
            language = customer.preferred_language
            self._mails.enqueue(session, compose(
                "request_extended", to=customer.email, language=language,
                request_kind=request_kind(request.kind, language), due=f"{request.due_at:%Y-%m-%d}", reason=reason,
                authority=self._settings.supervisory_authority), customer_id=customer.id)
        logger.info("request extended request_id=%s months=%d staff_id=%s", request.id, months, staff_id)
        return request

    async def due(self, now: datetime | None = None) -> list[DueRequest]:
        """Open requests within `request_reminder_days` of their due date, and overdue ones."""
        now = now or utc_now()
        async with self._db.read() as session:
            found = await self._queue.due_by(session, now + timedelta(days=self._settings.request_reminder_days))
        return due_requests(found, now)

    async def remind(self, now: datetime | None = None) -> Reminded:
        """Mail the DPO the requests due soon or overdue that they were not told about today (UTC) in
        the state they are now in: run it every round or every hour, the DPO gets one mail a day per
        request and state. Each request is claimed by a conditional UPDATE in the transaction that
        queues the mail, so two runs at once tell of each request once."""
        now = now or utc_now()
        start_of_day = datetime(now.year, now.month, now.day, tzinfo=UTC)
        told: list[DueRequest] = []
        mail_id = None
        candidates = await self.due(now)
        if not candidates:
            return Reminded([], None)
        async with self._db.transaction() as session:
            for item in candidates:
                not_yet = or_(col(SubjectRequest.reminder_state).is_(None),
                              col(SubjectRequest.reminder_state) != item.state,
                              col(SubjectRequest.reminded_at) < start_of_day)
                claim = (update(SubjectRequest)
                         .where(and_(col(SubjectRequest.id) == item.request.id,
                                     col(SubjectRequest.status).in_(OPEN_STATUSES), not_yet))
                         .values(reminder_state=item.state, reminded_at=now))
                if (await session.exec(claim)).rowcount:  # type: ignore[call-overload]
                    told.append(item)
            if told:
                language = self._settings.dpo_language
                mail_id = self._mails.enqueue(session, compose(
                    "request_reminders", to=self._settings.dpo_email, language=language,
                    lines="\n".join(item.line() for item in told)), customer_id=None)
        if told:
            logger.info("dpo reminded of requests count=%d overdue=%d", len(told), sum(i.overdue for i in told))
        return Reminded(told, mail_id)
