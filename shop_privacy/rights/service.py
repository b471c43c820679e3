"""The customer's rights, end to end: export, erasure, cancelling an erasure on hold, and the DPO's
handling of requests that arrive by e-mail (P14, P22, P24, P26)."""

from __future__ import annotations

import enum
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..accounts.password_check import PasswordCheck
from ..accounts.profile import Profiles, ProfileUpdated
from ..accounts.sessions import Viewer
from ..accounts.throttle import Throttle
from ..disclosures.service import Disclosures
from ..errors import BadUserInput, Conflict, InvalidCredentials, NotFound, ReauthenticationRequired, Unauthenticated
from ..mail.queue import MailQueue
from ..mail.templates import compose
from ..restriction.service import Restrictions
from ..settings import Settings
from ..storage.database import Database
from ..storage.locks import lock_customer
from ..storage.tables import AuthSession, Customer, SubjectRequest
from ..storage.tables.disclosures import DisclosureKind
from ..storage.types import utc_now
from ..tokens import InvalidToken, Signer, token_hash
from .deadlines import RequestDeadlines
from .erasure import Eraser
from .export import DataExport
from .identity import IdentityChallenges, awaits_identity
from .ledger import ErasureLedger, LedgerEntry
from .requests import Channel, RequestKind, RequestQueue, RequestStatus
from .subject_map import Subject

logger = logging.getLogger("shop_privacy.rights")

REAUTHENTICATION_WINDOW = timedelta(minutes=10)
_EXPORT_PURPOSE = "data-export"
# The channels by which a request reaches the DPO, who registers it (the others open their own).
REGISTERED_CHANNELS = frozenset({Channel.EMAIL, Channel.LETTER, Channel.IN_PERSON})


class ErasureOutcome(enum.StrEnum):
    ERASED = "erased"
    HELD = "held"  # an unsettled order holds it; it resumes once the order is settled
    SKIPPED = "skipped"  # another run has it, or has already done it
    NOT_DUE = "not_due"  # the condition no longer holds (e.g. the customer logged in)


@dataclass(frozen=True)
class Erased:
    """A completed erasure, for what follows its commit."""

    subject: Subject
    new_ledger_entry: LedgerEntry | None  # None when the request had one already (re-applied)


@dataclass(frozen=True)
class ExportIssued:
    request: SubjectRequest
    token: str
    expires_at: datetime


class Rights:
    def __init__(self, db: Database, settings: Settings, passwords: PasswordCheck, throttle: Throttle,
                 signer: Signer, mails: MailQueue, profiles: Profiles, disclosures: Disclosures, export: DataExport,
                 eraser: Eraser, queue: RequestQueue, ledger: ErasureLedger, restrictions: Restrictions) -> None:
        self._db = db
        self._settings = settings
        self._passwords = passwords
        self._throttle = throttle
        self._signer = signer
        self._mails = mails
        self._profiles = profiles
        self._disclosures = disclosures
        self.export = export
        self._eraser = eraser
        self.queue = queue
        self.ledger = ledger
        self.restrictions = restrictions
        self.deadlines = RequestDeadlines(db, settings, mails, queue)
        self.identity = IdentityChallenges(db, settings, signer, mails, queue)

    # Re-authentication: rights requests want the password given within the last ten minutes.

    async def _reauthenticate(self, viewer: Viewer, password: str | None, client_ip: str | None) -> None:
        async with self._db.read() as session:
            row = await session.get(AuthSession, viewer.session_id)
            customer = await session.get(Customer, viewer.customer_id)
        if row is None or customer is None:
            raise NotFound("No such customer.")
        if password:
            # The login's throttled check, counted against the same account and address.
            await self._passwords.confirm(self._throttle.keys(customer.email, client_ip), customer.password_hash,
                                          password, failure=InvalidCredentials("The password is wrong."),
                                          rehash=False)
            async with self._db.transaction() as session:
                await session.exec(update(AuthSession).where(col(AuthSession.id) == viewer.session_id)
                                   .values(authenticated_at=utc_now()))
        elif row.authenticated_at + REAUTHENTICATION_WINDOW < utc_now():
            raise ReauthenticationRequired("Give your password again to do this.", reason="password_required")

    # Export

    async def request_export(self, viewer: Viewer, password: str | None, *,
                             client_ip: str | None = None) -> ExportIssued:
        await self._reauthenticate(viewer, password, client_ip)
        return await self._issue_export(viewer.customer_id, Channel.SELF_SERVICE)

    async def _issue_export(self, customer_id: uuid.UUID, channel: Channel, *,
                            request: SubjectRequest | None = None, mail_link: bool = False) -> ExportIssued:
        """The signed download link; with `mail_link`, mailed to the customer in the same transaction."""
        max_age = self._settings.export_link_max_age_seconds
        async with self._db.transaction() as session:
            if request is None:
                request = self.queue.open(session, customer_id, RequestKind.EXPORT, channel)
                await session.flush()
            else:
                request = await session.get(SubjectRequest, request.id) or request
            token = self._signer.sign(_EXPORT_PURPOSE, {"request": str(request.id), "customer": str(customer_id)})
            request.download_token_hash = token_hash(token)
            request.status = RequestStatus.COMPLETED.value
            request.completed_at = utc_now()
            session.add(request)
            if mail_link:
                self._mail_export_link(session, await session.get(Customer, customer_id), token)
        logger.info("export issued request_id=%s customer_id=%s", request.id, customer_id)
        return ExportIssued(request, token, utc_now() + timedelta(seconds=max_age))

    async def subject_for_download(self, token: str, viewer: Viewer | None) -> Subject:
        """The subject whose package `token` opens, for the logged-in customer it was issued to."""
        payload = self._signer.unsign(_EXPORT_PURPOSE, token,
                                      max_age_seconds=self._settings.export_link_max_age_seconds)
        if not isinstance(payload, dict) or not {"request", "customer"} <= payload.keys():
            raise InvalidToken()
        try:
            request_id, customer_id = uuid.UUID(payload["request"]), uuid.UUID(payload["customer"])
        except ValueError:
            raise InvalidToken() from None
        if viewer is None or viewer.customer_id != customer_id:
            raise NotFound("No such download.")  # another customer's link answers like a missing one
        async with self._db.read() as session:
            request = await session.get(SubjectRequest, request_id)
        if request is None or request.download_token_hash != token_hash(token):
            raise InvalidToken()
        subject = await self.export.subject(customer_id)
        if subject is None:
            raise NotFound("No such download.")
        logger.info("export downloaded request_id=%s customer_id=%s", request_id, customer_id)
        return subject

    # Erasure

    async def request_erasure(self, viewer: Viewer, password: str | None, *,
                              client_ip: str | None = None) -> SubjectRequest:
        await self._reauthenticate(viewer, password, client_ip)
        async with self._db.transaction() as session:
            if await lock_customer(session, viewer.customer_id) is None:
                raise Unauthenticated()
            # Asking twice (two clicks, two tabs) finds the erasure already asked for.
            request = await self.queue.open_of(session, viewer.customer_id, RequestKind.ERASURE)
            if request is None:
                request = self.queue.open(session, viewer.customer_id, RequestKind.ERASURE, Channel.SELF_SERVICE)
        return await self.run(request.id)

    async def run_for_dpo(self, request_id: uuid.UUID) -> SubjectRequest:
        """`run`, for the DPO, who is told when the requester has not yet confirmed their identity."""
        async with self._db.read() as session:
            request = await session.get(SubjectRequest, request_id)
        if request is not None and awaits_identity(request):
            raise Conflict("The requester has not confirmed their identity yet (the link mailed to the "
                           "account's address).", reason="identity_unverified")
        return await self.run(request_id)

    async def run(self, request_id: uuid.UUID) -> SubjectRequest:
        """Carry out a request. An erasure waits while an order is unsettled; running a completed one
        again changes nothing; nor does running one whose requester has not confirmed their identity."""
        async with self._db.read() as session:
            request = await session.get(SubjectRequest, request_id)
        if request is None:
            raise NotFound("No such request.")
        if request.status in {RequestStatus.COMPLETED, RequestStatus.CANCELLED} or awaits_identity(request):
            return request
        if request.kind == RequestKind.EXPORT:
            issued = await self._issue_export(request.customer_id, Channel(request.channel), request=request,
                                              mail_link=True)
            return issued.request
        if request.kind == RequestKind.ERASURE:
            return await self._erase(request_id)
        if request.kind in {RequestKind.RESTRICTION, RequestKind.OBJECTION}:
            return await self.restrictions.run(request_id)
        raise BadUserInput("Corrections are made, not run.", reason="not_runnable")

    async def erase_if_still(self, customer_id: uuid.UUID, condition: ColumnElement[bool],
                             channel: Channel) -> ErasureOutcome:
        """Erase the customer if `condition` (over `customers`) still holds, judged under the customer's
        lock in the transaction that erases: a customer who logged in a moment ago is not erased for
        inactivity. Work another run has taken (an open erasure, or the customer already gone) is
        reported as skipped."""
        async with self._db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None:
                return ErasureOutcome.SKIPPED
            due = (await session.exec(select(Customer.id).where(col(Customer.id) == customer_id, condition))).first()
            if due is None:
                return ErasureOutcome.NOT_DUE
            if await self.queue.open_of(session, customer_id, RequestKind.ERASURE) is not None:
                return ErasureOutcome.SKIPPED
            request = self.queue.open(session, customer_id, RequestKind.ERASURE, channel)
            await session.flush()
            erased = await self._erase_locked(session, request, customer)
        await self._after_erasure(request, erased)
        return ErasureOutcome.ERASED if erased is not None else ErasureOutcome.HELD

    async def erase_again(self, customer_id: uuid.UUID, entry: LedgerEntry) -> ErasureOutcome:
        """Re-applies a completed erasure from the ledger to a customer a restored backup brought back
        (`rights reapply`), through the same erasure, so the accounting minimum is the one the first
        erasure kept. No order holds it: the ledger shows that the erasure completed, so whatever the
        restored copy says of the customer's orders, they were settled then. The customer was told
        then too, and is not mailed again. An account made after the erasure is not the one erased."""
        async with self._db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None:
                return ErasureOutcome.SKIPPED
            if customer.created_at > entry.erased_at:
                return ErasureOutcome.NOT_DUE
            # The original entry, which a database older than the erasure lacks.
            await self.ledger.record(session, entry)
            request = await self.queue.open_of(session, customer_id, RequestKind.ERASURE)
            if request is None:
                request = self.queue.open(session, customer_id, RequestKind.ERASURE, Channel(entry.channel))
                if customer_id == entry.subject_id and await session.get(SubjectRequest, entry.request_id) is None:
                    request.id = entry.request_id  # the request the entry records, back in the restored copy
                await session.flush()
            erased = await self._erase_locked(session, request, customer, hold=False, reapplying=entry)
        await self._after_erasure(request, erased)
        return ErasureOutcome.ERASED

    async def _erase(self, request_id: uuid.UUID) -> SubjectRequest:
        async with self._db.transaction() as session:
            customer, request = await self.queue.lock_with_customer(session, request_id)
            if request.status in {RequestStatus.COMPLETED, RequestStatus.CANCELLED}:
                return request
            erased = await self._erase_locked(session, request, customer)
        await self._after_erasure(request, erased)
        return request

    async def _erase_locked(self, session: AsyncSession, request: SubjectRequest, customer: Customer | None, *,
                            hold: bool = True, reapplying: LedgerEntry | None = None) -> Erased | None:
        """Inside the transaction, with the customer locked: hold the request while an order is
        unsettled (unless `hold` is off), else erase. Returns the erasure, or None when held.
        Every completed erasure, whoever asked for it, passes here: this is where it enters the ledger."""
        holds = await self._eraser.holds(session, request.customer_id) if hold else []
        if holds:
            request.status, request.hold_reason = RequestStatus.ON_HOLD.value, "; ".join(holds)
            session.add(request)
            return None
        # Already erased (a second request): nothing left to find by address, nobody to mail.
        subject = Subject.of(customer) if customer else Subject(request.customer_id, "", "sv", None)
        new_entry = None
        if customer is not None:
            # Before the erasure, so that its report lists the entry among what is kept.
            entry = self.ledger.entry(request.id, subject.id, subject.email, request.channel, utc_now())
            if await self.ledger.record(session, entry):
                new_entry = entry
        report = await self._eraser.erase(session, subject)
        # P25: every recipient that ever got the customer's data is asked to erase it too, in the
        # same transaction: the erasure and the requests to erase happen together or not at all.
        received = await self._disclosures.received(session, subject.id) if customer else []
        await self._disclosures.notify(session, DisclosureKind.ERASE, subject.id, received, source=Customer,
                                       data={"email": subject.email}, extra={"customerRef": str(subject.id)})
        recipients = [r.recipient for r in received]
        request.status, request.hold_reason = RequestStatus.COMPLETED.value, None
        request.completed_at = utc_now()
        notify = bool(subject.email) and reapplying is None  # a re-applied erasure was confirmed the first time
        confirmation = {"confirmationMail": {
            "category": "user.contact.email", "outcome": "retained", "reasons": ["to confirm this erasure to you"],
            "until": f"{self._settings.retention_sent_mail_days} days after the confirmation is sent"}}
        reapplied = {} if reapplying is None else {"reappliedFromLedger": {
            "requestId": str(reapplying.request_id), "erasedAt": reapplying.erased_at.isoformat()}}
        request.report = json.dumps({**report.as_json(), "recipientsAskedToErase": recipients,
                                     **(confirmation if notify else {}), **reapplied}, ensure_ascii=False)
        session.add(request)
        if notify:
            # Queued after the eraser removed the customer's other mails, in the same transaction, and tied
            # to no account: it reaches the address even though everything else about them is gone.
            self._mails.enqueue(session, compose("erasure_done", to=subject.email, language=subject.language),
                                customer_id=None)
        return Erased(subject, new_entry)

    async def _after_erasure(self, request: SubjectRequest, erased: Erased | None) -> None:
        """Once committed: the log line and the ledger file's entry (the confirmation mail was queued
        with the erasure)."""
        if erased is None:
            logger.info("erasure on hold request_id=%s customer_id=%s", request.id, request.customer_id)
            return
        logger.info("erasure completed request_id=%s customer_id=%s", request.id, request.customer_id)
        if erased.new_ledger_entry is not None:
            await self.ledger.write_out([erased.new_ledger_entry])

    async def cancel_erasure(self, viewer: Viewer, request_id: uuid.UUID) -> SubjectRequest:
        async with self._db.transaction() as session:
            request = await session.get(SubjectRequest, request_id, with_for_update=True)
            if request is None or request.customer_id != viewer.customer_id or request.kind != RequestKind.ERASURE:
                raise NotFound("No such request.")
            if request.status not in {RequestStatus.ON_HOLD, RequestStatus.RECEIVED}:
                raise BadUserInput("Only an erasure that is still waiting can be cancelled.", reason="not_waiting")
            request.status, request.completed_at = RequestStatus.CANCELLED.value, utc_now()
            session.add(request)
        return request

    # Corrections by staff on a customer's behalf (P23): a request record, and the change history.

    async def correct(self, staff_id: uuid.UUID, customer_id: uuid.UUID, data: dict[str, Any], *,
                      request_id: str) -> ProfileUpdated:
        def record_request(session: AsyncSession, changed: list[str]) -> None:
            request = self.queue.open(session, customer_id, RequestKind.RECTIFICATION, Channel.STAFF,
                                      registered_by=staff_id)
            request.status, request.completed_at = RequestStatus.COMPLETED.value, utc_now()
            request.report = json.dumps({"fields": [f"customers.{column}" for column in changed]})

        return await self._profiles.correct(staff_id, customer_id, data, request_id=request_id, also=record_request)

    # The DPO's side

    async def register(self, staff_id: uuid.UUID, customer_id: uuid.UUID, kind: RequestKind,
                       identity_verification: str | None, received_at: datetime | None = None,
                       channel: Channel = Channel.EMAIL, *, objects_to: str | None = None,
                       grounds: str | None = None) -> SubjectRequest:
        """A request that reached the DPO. By e-mail: the requester confirms their identity with a link
        mailed to the account's address, and the request waits until then. By letter or in person: the
        DPO notes how the identity was checked."""
        if channel not in REGISTERED_CHANNELS:
            raise BadUserInput("The DPO registers requests that came by e-mail, by letter or in person.",
                               reason="channel_not_registrable")
        note = (identity_verification or "").strip()
        if channel is Channel.EMAIL and note:
            raise BadUserInput("A request by e-mail is verified by the link mailed to the account's address, "
                               "not by a note.", reason="identity_note_not_for_email")
        if channel is not Channel.EMAIL and not note:
            raise BadUserInput("Say how the requester's identity was verified.", reason="identity_unverified")
        if received_at is not None and received_at > utc_now():
            raise BadUserInput("A request cannot be received in the future.", reason="received_in_future")
        async with self._db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None:
                raise NotFound("No such customer.")
            already = await self.queue.open_of(session, customer_id, kind)
            if already is not None:
                raise Conflict("This customer already has an open request of this kind.", reason="request_open",
                               requestId=str(already.id))
            request = self.queue.open(session, customer_id, kind, channel, received_at=received_at,
                                      registered_by=staff_id, identity_verification=note or None)
            await session.flush()
            self.restrictions.on_registered(session, request, objects_to, grounds)
            if channel is Channel.EMAIL:
                self.identity.issue(session, request, customer)
        logger.info("request registered request_id=%s kind=%s channel=%s staff_id=%s", request.id, kind,
                    channel, staff_id)
        return request

    def _mail_export_link(self, session: AsyncSession, customer: Customer | None, token: str) -> None:
        if customer is None:
            return
        link = f"{self._settings.storefront_url.rstrip('/')}/my-data?token={token}"
        self._mails.enqueue(session, compose("data_export", to=customer.email, language=customer.preferred_language,
                                             link=link), customer_id=customer.id)


def report_of(request: SubjectRequest) -> dict[str, Any] | None:
    return json.loads(request.report) if request.report else None
