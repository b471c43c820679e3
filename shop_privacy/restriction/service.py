"""Restriction (GDPR Art. 18) and objection (Art. 21), as data-subject requests in the DPO's queue.

- A restriction, asked for by the customer or registered by the DPO and run, is in force at once: the data is
  kept but not used (see `privacy.access.limit_reason`). Only the DPO lifts it, and the customer is mailed
  before it is lifted, in the same transaction (Art. 18(3)).
- An objection to direct marketing stops it at once and for good: every direct-marketing consent is
  withdrawn and the objection stays in force, refusing a new grant, until the customer lifts it themselves.
- An objection to a purpose resting on a legitimate interest waits for the DPO's decision, with a recorded
  reason: granted, that processing stops for the customer; refused, the customer is mailed why.

Every recipient that got the customer's data is told of a restriction and of its lifting (Art. 19).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..consents.ledger import ConsentLedger
from ..consents.service import ConsentService
from ..disclosures.service import Disclosures
from ..errors import BadUserInput, Conflict, NotFound, Unauthenticated
from ..mail.queue import MailQueue
from ..mail.templates import compose
from ..privacy.access import ProcessingLimits
from ..privacy.purposes import DIRECT_MARKETING, PURPOSES, direct_marketing_purposes, objection_targets
from ..rights.requests import OPEN_STATUSES, Channel, RequestKind, RequestQueue, RequestStatus
from ..settings import Settings
from ..storage.database import Database
from ..storage.locks import lock_customer
from ..storage.tables import Customer, ProcessingLimit, SubjectRequest
from ..storage.tables.disclosures import DisclosureKind
from ..storage.types import utc_now
from .limits import LimitKind, LimitStatus, limits_of

logger = logging.getLogger("shop_privacy.restriction")

_MAX_TEXT = 1000


def _text(value: str | None, what: str, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise BadUserInput(f"Give {what}.", reason="reason_required")
    if len(cleaned) > _MAX_TEXT:
        raise BadUserInput(f"Keep {what} under {_MAX_TEXT} characters.", reason="too_long")
    return cleaned or None


def check_objection_target(target: str | None) -> str:
    if target not in objection_targets():
        raise BadUserInput("Object to direct marketing or to a use resting on a legitimate interest: "
                           + ", ".join(objection_targets()) + ".", reason="not_objectable")
    return target


class Restrictions:
    def __init__(self, db: Database, settings: Settings, queue: RequestQueue, mails: MailQueue,
                 consents: ConsentService, consent_ledger: ConsentLedger, disclosures: Disclosures) -> None:
        self._db = db
        self._settings = settings
        self._queue = queue
        self._mails = mails
        self._consents = consents
        self._consent_ledger = consent_ledger
        self._disclosures = disclosures

    @staticmethod
    async def limits(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ProcessingLimits]:
        """What each subject has stopped now (no restriction or objection for an id that is not a customer's)."""
        return await limits_of(session, customer_ids)

    # The customer's side (self-service)

    async def request_restriction(self, customer_id: uuid.UUID, grounds: str | None) -> SubjectRequest:
        """Restricted at once; asking again while restricted finds the request that restricted it."""
        grounds = _text(grounds, "your grounds", required=False)
        async with self._db.transaction() as session:
            if await lock_customer(session, customer_id) is None:
                raise Unauthenticated()
            in_force = await self._in_force(session, customer_id, LimitKind.RESTRICTION)
            if in_force:
                request = await session.get(SubjectRequest, in_force[0].request_id)
                if request is not None:
                    return request
            request = await self._queue.open_of(session, customer_id, RequestKind.RESTRICTION)
            if request is None:
                request = self._queue.open(session, customer_id, RequestKind.RESTRICTION, Channel.SELF_SERVICE)
                await session.flush()
                self._pending(session, request, LimitKind.RESTRICTION, [None], grounds)
            await self._run_locked(session, request)
        return request

    async def object(self, customer_id: uuid.UUID, target: str, grounds: str | None) -> SubjectRequest:
        """Direct marketing stops at once; an objection to a legitimate interest waits for the DPO."""
        target = check_objection_target(target)
        grounds = _text(grounds, "your grounds", required=target != DIRECT_MARKETING)
        async with self._db.transaction() as session:
            if await lock_customer(session, customer_id) is None:
                raise Unauthenticated()
            request = await self._queue.open_of(session, customer_id, RequestKind.OBJECTION)
            if request is not None:
                raise Conflict("Your earlier objection is still being decided.", reason="request_open")
            request = self._queue.open(session, customer_id, RequestKind.OBJECTION, Channel.SELF_SERVICE)
            await session.flush()
            self._pending(session, request, LimitKind.OBJECTION, self._purposes_of(target), grounds)
            if target == DIRECT_MARKETING:
                await self._run_locked(session, request)
        logger.info("objection request_id=%s customer_id=%s target=%s", request.id, customer_id, target)
        return request

    async def lift_marketing_objection(self, customer_id: uuid.UUID) -> int:
        """Only the customer lifts their objection to direct marketing; no consent comes back with it (they
        give each again if they want). Returns how many purposes it opened again."""
        marketing = direct_marketing_purposes()
        async with self._db.transaction() as session:
            if await lock_customer(session, customer_id) is None:
                raise Unauthenticated()
            rows = [row for row in await self._in_force(session, customer_id, LimitKind.OBJECTION)
                    if row.purpose in marketing]
            now = utc_now()
            for row in rows:
                row.status, row.lifted_at = LimitStatus.LIFTED.value, now
                session.add(row)
        logger.info("marketing objection lifted customer_id=%s purposes=%d", customer_id, len(rows))
        return len(rows)

    # The DPO's side

    def on_registered(self, session: AsyncSession, request: SubjectRequest, objects_to: str | None,
                      grounds: str | None) -> None:
        """A restriction or objection that arrived by e-mail, registered in `session`: what it asks, waiting
        for the DPO to run (or decide) it."""
        grounds = _text(grounds, "the grounds", required=False)
        if request.kind == RequestKind.RESTRICTION:
            self._pending(session, request, LimitKind.RESTRICTION, [None], grounds)
        elif request.kind == RequestKind.OBJECTION:
            self._pending(session, request, LimitKind.OBJECTION,
                          self._purposes_of(check_objection_target(objects_to)), grounds)

    async def run(self, request_id: uuid.UUID) -> SubjectRequest:
        """Put a registered restriction, or objection to direct marketing, in force."""
        async with self._db.transaction() as session:
            request = await self._queue.lock(session, request_id)
            if request is None:
                raise NotFound("No such request.")
            if request.status not in OPEN_STATUSES:
                return request
            if await lock_customer(session, request.customer_id) is None:
                raise NotFound("No such customer.")
            await self._run_locked(session, request)
        return request

    async def decide_objection(self, staff_id: uuid.UUID, request_id: uuid.UUID, *, granted: bool,
                               reason: str) -> SubjectRequest:
        """The DPO's decision on an objection to a legitimate interest, with the reason recorded. Granted:
        that processing stops for the customer. Refused: the customer is mailed the reason, in the same
        transaction."""
        reason = _text(reason, "the reason for the decision", required=True)
        async with self._db.transaction() as session:
            request = await self._queue.lock(session, request_id)
            if request is None or request.kind != RequestKind.OBJECTION:
                raise NotFound("No such objection.")
            if request.status not in OPEN_STATUSES:
                raise BadUserInput("This objection has been decided already.", reason="already_decided")
            customer = await lock_customer(session, request.customer_id)
            if customer is None:
                raise NotFound("No such customer.")
            rows = await self._rows_of(session, request)
            purposes = sorted(row.purpose for row in rows if row.purpose)
            if any(p in direct_marketing_purposes() for p in purposes):
                raise BadUserInput("An objection to direct marketing is not decided: run it.", reason="not_decided")
            now, status = utc_now(), LimitStatus.IN_FORCE if granted else LimitStatus.REFUSED
            for row in rows:
                row.status, row.decided_at, row.decided_by, row.decision_reason = status.value, now, staff_id, reason
                session.add(row)
            if not granted:
                self._mails.enqueue(session, compose(
                    "objection_refused", to=customer.email, language=customer.preferred_language, reason=reason,
                    purpose=", ".join(_label(p, customer.preferred_language) for p in purposes),
                    authority=self._settings.supervisory_authority), customer_id=customer.id)
            self._complete(session, request, {"outcome": "granted" if granted else "refused",
                                              "purposes": purposes, "reason": reason, "decidedAt": now.isoformat()})
        logger.info("objection decided request_id=%s staff_id=%s granted=%s", request_id, staff_id, granted)
        return request

    async def lift_restriction(self, staff_id: uuid.UUID, customer_id: uuid.UUID, reason: str) -> SubjectRequest:
        """Mail the customer first, then lift, in one transaction: the mail is queued before the restriction
        ends, and neither happens without the other."""
        reason = _text(reason, "the reason for lifting the restriction", required=True)
        async with self._db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None:
                raise NotFound("No such customer.")
            rows = await self._in_force(session, customer_id, LimitKind.RESTRICTION)
            if not rows:
                raise BadUserInput("This customer's processing is not restricted.", reason="not_restricted")
            self._mails.enqueue(session, compose("restriction_lifted", to=customer.email,
                                                 language=customer.preferred_language, reason=reason),
                                customer_id=customer.id)
            await session.flush()  # the mail is written before the restriction ends
            now = utc_now()
            for row in rows:
                row.status, row.lifted_at, row.decided_by, row.decision_reason = (
                    LimitStatus.LIFTED.value, now, staff_id, reason)
                session.add(row)
            request = await session.get(SubjectRequest, rows[0].request_id)
            if request is None:
                raise NotFound("No such request.")
            report = json.loads(request.report) if request.report else {}
            request.report = json.dumps({**report, "liftedAt": now.isoformat(), "liftReason": reason,
                                         "customerMailedFirst": True}, ensure_ascii=False)
            session.add(request)
            await self._tell_recipients(session, customer_id, DisclosureKind.UNRESTRICT)
        logger.info("restriction lifted customer_id=%s staff_id=%s", customer_id, staff_id)
        return request

    # Inside the transaction, with the customer locked

    async def _run_locked(self, session: AsyncSession, request: SubjectRequest) -> None:
        rows = [row for row in await self._rows_of(session, request) if row.status == LimitStatus.PENDING]
        if request.kind == RequestKind.OBJECTION and not any(r.purpose in direct_marketing_purposes() for r in rows):
            raise BadUserInput("An objection to a legitimate interest is decided by the DPO: decideObjection.",
                               reason="needs_decision")
        if not rows:
            raise BadUserInput("This request asks for nothing to put in force.", reason="not_runnable")
        now = utc_now()
        for row in rows:
            row.status, row.decided_at = LimitStatus.IN_FORCE.value, now
            session.add(row)
        await session.flush()
        if request.kind == RequestKind.RESTRICTION:
            await self._tell_recipients(session, request.customer_id, DisclosureKind.RESTRICT)
            self._complete(session, request, {"outcome": "restricted", "restrictedAt": now.isoformat()})
            logger.info("restriction placed request_id=%s customer_id=%s", request.id, request.customer_id)
            return
        purposes = sorted(row.purpose for row in rows if row.purpose)
        live = {p for p in purposes if (await self._consents.live(session, [request.customer_id], p))
                .get(request.customer_id)}
        for purpose in sorted(live):
            # The ledger's withdrawal tells every recipient of that purpose's data (the unsubscribe messages).
            await self._consent_ledger.record(session, request.customer_id, purpose, False, "objection")
        self._complete(session, request, {"outcome": "stopped", "purposes": purposes,
                                          "consentsWithdrawn": sorted(live), "stoppedAt": now.isoformat()})

    def _pending(self, session: AsyncSession, request: SubjectRequest, kind: LimitKind,
                 purposes: list[str | None], grounds: str | None) -> None:
        for purpose in purposes:
            session.add(ProcessingLimit(customer_id=request.customer_id, request_id=request.id, kind=kind.value,
                                        purpose=purpose, status=LimitStatus.PENDING.value, grounds=grounds,
                                        requested_at=request.received_at))

    @staticmethod
    def _purposes_of(target: str) -> list[str | None]:
        return sorted(direct_marketing_purposes()) if target == DIRECT_MARKETING else [target]

    @staticmethod
    def _complete(session: AsyncSession, request: SubjectRequest, report: dict[str, Any]) -> None:
        request.status, request.completed_at = RequestStatus.COMPLETED.value, utc_now()
        request.report = json.dumps(report, ensure_ascii=False)
        session.add(request)

    async def _tell_recipients(self, session: AsyncSession, customer_id: uuid.UUID, kind: DisclosureKind) -> None:
        """Art. 19: every recipient that had the customer's data is told (a logged notice, no data in it)."""
        received = await self._disclosures.received(session, customer_id)
        await self._disclosures.notify(session, kind, customer_id, received, source=Customer, data={},
                                       extra={"customerRef": str(customer_id)})

    @staticmethod
    async def _rows_of(session: AsyncSession, request: SubjectRequest) -> list[ProcessingLimit]:
        query = select(ProcessingLimit).where(ProcessingLimit.request_id == request.id).with_for_update()
        return list((await session.exec(query.order_by(col(ProcessingLimit.purpose)))).all())

    @staticmethod
    async def _in_force(session: AsyncSession, customer_id: uuid.UUID, kind: LimitKind) -> list[ProcessingLimit]:
        query = select(ProcessingLimit).where(ProcessingLimit.customer_id == customer_id,
                                              ProcessingLimit.kind == kind.value,
                                              ProcessingLimit.status == LimitStatus.IN_FORCE.value).with_for_update()
        return list((await session.exec(query.order_by(col(ProcessingLimit.requested_at)))).all())


def _label(purpose: str, language: str) -> str:
    declared = PURPOSES.get(purpose)
    if declared is None:
        return purpose
    return declared.description_sv if language == "sv" else declared.description_en
