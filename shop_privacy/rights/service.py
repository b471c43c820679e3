"""The customer's rights, end to end: export, erasure, cancelling an erasure on hold, and the DPO's
handling of requests that arrive by e-mail (P14, P22, P24, P26)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ..accounts.passwords import PasswordHasher
from ..accounts.profile import Profiles, ProfileUpdated
from ..accounts.sessions import Viewer
from ..disclosures.service import Disclosures
from ..errors import BadUserInput, InvalidCredentials, NotFound, ReauthenticationRequired
from ..mail.mailer import Mailer
from ..mail.templates import compose
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import AuthSession, Customer, SubjectRequest
from ..storage.types import utc_now
from ..tokens import InvalidToken, Signer, token_hash
from .erasure import Eraser
from .export import DataExport
from .requests import Channel, RequestKind, RequestQueue, RequestStatus
from .subject_map import Subject

logger = logging.getLogger("shop_privacy.rights")

REAUTHENTICATION_WINDOW = timedelta(minutes=10)
_EXPORT_PURPOSE = "data-export"


@dataclass(frozen=True)
class ExportIssued:
    request: SubjectRequest
    token: str
    expires_at: datetime


class Rights:
    def __init__(self, db: Database, settings: Settings, hasher: PasswordHasher, signer: Signer, mailer: Mailer,
                 profiles: Profiles, disclosures: Disclosures, export: DataExport, eraser: Eraser,
                 queue: RequestQueue) -> None:
        self._db = db
        self._settings = settings
        self._hasher = hasher
        self._signer = signer
        self._mailer = mailer
        self._profiles = profiles
        self._disclosures = disclosures
        self.export = export
        self._eraser = eraser
        self.queue = queue

    # Re-authentication: rights requests want the password given within the last ten minutes.

    async def _reauthenticate(self, viewer: Viewer, password: str | None) -> None:
        async with self._db.reader() as session:
            row = await session.get(AuthSession, viewer.session_id)
            customer = await session.get(Customer, viewer.customer_id)
        if row is None or customer is None:
            raise NotFound("No such customer.")
        if password:
            if not await self._hasher.verify(customer.password_hash, password):
                raise InvalidCredentials("The password is wrong.")
            async with self._db.transaction() as session:
                await session.exec(update(AuthSession).where(col(AuthSession.id) == viewer.session_id)
                                   .values(authenticated_at=utc_now()))
        elif row.authenticated_at + REAUTHENTICATION_WINDOW < utc_now():
            raise ReauthenticationRequired("Give your password again to do this.", reason="password_required")

    # Export

    async def request_export(self, viewer: Viewer, password: str | None) -> ExportIssued:
        await self._reauthenticate(viewer, password)
        return await self._issue_export(viewer.customer_id, Channel.SELF_SERVICE)

    async def _issue_export(self, customer_id: uuid.UUID, channel: Channel, *,
                            request: SubjectRequest | None = None) -> ExportIssued:
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
        async with self._db.reader() as session:
            request = await session.get(SubjectRequest, request_id)
        if request is None or request.download_token_hash != token_hash(token):
            raise InvalidToken()
        subject = await self.export.subject(customer_id)
        if subject is None:
            raise NotFound("No such download.")
        logger.info("export downloaded request_id=%s customer_id=%s", request_id, customer_id)
        return subject

    # Erasure

    async def request_erasure(self, viewer: Viewer, password: str | None) -> SubjectRequest:
        await self._reauthenticate(viewer, password)
        async with self._db.transaction() as session:
            request = self.queue.open(session, viewer.customer_id, RequestKind.ERASURE, Channel.SELF_SERVICE)
        return await self.run(request.id)

    async def run(self, request_id: uuid.UUID) -> SubjectRequest:
        """Carry out a request. An erasure waits while an order is unsettled; running a completed one
        again changes nothing."""
        async with self._db.reader() as session:
            request = await session.get(SubjectRequest, request_id)
        if request is None:
            raise NotFound("No such request.")
        if request.status in {RequestStatus.COMPLETED, RequestStatus.CANCELLED}:
            return request
        if request.kind == RequestKind.EXPORT:
            issued = await self._issue_export(request.customer_id, Channel(request.channel), request=request)
            await self._mail_export_link(issued)
            return issued.request
        if request.kind == RequestKind.ERASURE:
            return await self._erase(request_id)
        raise BadUserInput("Corrections are made, not run.", reason="not_runnable")

    async def _erase(self, request_id: uuid.UUID) -> SubjectRequest:
        async with self._db.transaction() as session:
            request = await session.get(SubjectRequest, request_id, with_for_update=True)
            if request is None:
                raise NotFound("No such request.")
            if request.status in {RequestStatus.COMPLETED, RequestStatus.CANCELLED}:
                return request
            holds = await self._eraser.holds(session, request.customer_id)
            if holds:
                request.status, request.hold_reason = RequestStatus.ON_HOLD.value, "; ".join(holds)
                session.add(request)
                logger.info("erasure on hold request_id=%s customer_id=%s", request.id, request.customer_id)
                return request
            customer = await session.get(Customer, request.customer_id)
            # Already erased (a second request): nothing left to find by address, nobody to mail.
            subject = Subject.of(customer) if customer else Subject(request.customer_id, "", "sv", None)
            report = await self._eraser.erase(session, subject)
            # P25: every recipient that ever got the customer's data is asked to erase it too, in the
            # same transaction: the erasure and the requests to erase happen together or not at all.
            recipients = await self._disclosures.recipients_of(session, subject.id) if customer else []
            await self._disclosures.queue(session, "erase", subject.id, recipients,
                                          {"data": {"email": subject.email}, "customerRef": str(subject.id)})
            request.status, request.hold_reason = RequestStatus.COMPLETED.value, None
            request.completed_at = utc_now()
            request.report = json.dumps({**report.as_json(), "recipientsAskedToErase": recipients},
                                        ensure_ascii=False)
            session.add(request)
        logger.info("erasure completed request_id=%s customer_id=%s", request.id, request.customer_id)
        if subject.email:
            self._mailer.send(compose("erasure_done", to=subject.email, language=subject.language))
        return request

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
                       identity_verification: str, received_at: datetime | None = None) -> SubjectRequest:
        if not identity_verification.strip():
            raise BadUserInput("Say how the requester's identity was verified.", reason="identity_unverified")
        if received_at is not None and received_at > utc_now():
            raise BadUserInput("A request cannot be received in the future.", reason="received_in_future")
        async with self._db.transaction() as session:
            if await session.get(Customer, customer_id) is None:
                raise NotFound("No such customer.")
            request = self.queue.open(session, customer_id, kind, Channel.EMAIL, received_at=received_at,
                                      registered_by=staff_id, identity_verification=identity_verification.strip())
        logger.info("request registered request_id=%s kind=%s staff_id=%s", request.id, kind, staff_id)
        return request

    async def _mail_export_link(self, issued: ExportIssued) -> None:
        async with self._db.reader() as session:
            customer = await session.get(Customer, issued.request.customer_id)
        if customer is None:
            return
        link = f"{self._settings.storefront_url.rstrip('/')}/my-data?token={issued.token}"
        self._mailer.send(compose("data_export", to=customer.email, language=customer.preferred_language, link=link))


def report_of(request: SubjectRequest) -> dict[str, Any] | None:
    return json.loads(request.report) if request.report else None
