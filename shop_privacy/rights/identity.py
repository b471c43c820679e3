"""The identity of someone who asks by e-mail (P14, GDPR Art. 12(6)): not a note the DPO writes, but a
signed, expiring, single-use link mailed to the account's own address. The request waits (on hold,
unverified) until the link is followed; then it proceeds like any other."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ..accounts.sessions import Viewer
from ..errors import BadUserInput, Conflict, Forbidden
from ..mail.queue import MailQueue
from ..mail.templates import compose, request_kind
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import Customer, SubjectRequest
from ..storage.types import utc_now
from ..tokens import InvalidToken, Signer, token_hash
from .requests import OPEN_STATUSES, RequestQueue, RequestStatus

logger = logging.getLogger("shop_privacy.rights")

_PURPOSE = "request-identity"
WAITING_FOR_IDENTITY = "Waiting for the requester to confirm their identity with the link mailed to the account"


def awaits_identity(request: SubjectRequest) -> bool:
    """Registered from an e-mail, and the link not followed yet."""
    return request.identity_challenge_hash is not None and request.identity_verified_at is None


class IdentityChallenges:
    def __init__(self, db: Database, settings: Settings, signer: Signer, mails: MailQueue,
                 queue: RequestQueue) -> None:
        self._db = db
        self._settings = settings
        self._signer = signer
        self._mails = mails
        self._queue = queue

    def issue(self, session: AsyncSession, request: SubjectRequest, customer: Customer) -> None:
        """In the registering transaction: hold the request and mail the link to the account's address."""
        token = self._signer.sign(_PURPOSE, {"request": str(request.id), "customer": str(customer.id)})
        request.identity_challenge_hash = token_hash(token)
        request.status, request.hold_reason = RequestStatus.ON_HOLD.value, WAITING_FOR_IDENTITY
        session.add(request)
        link = f"{self._settings.storefront_url.rstrip('/')}/confirm-request?token={token}"
        language = customer.preferred_language
        self._mails.enqueue(session, compose(
            "identity_challenge", to=customer.email, language=language, link=link,
            request_kind=request_kind(request.kind, language),
            days=self._settings.identity_challenge_max_age_seconds // 86400), customer_id=customer.id)

    async def confirm(self, token: str, viewer: Viewer | None, *, now: datetime | None = None) -> SubjectRequest:
        """Follow the link: the request proceeds. Refused: a tampered or expired link (token_invalid,
        token_expired), one used already (token_used), one for another customer than the one logged in
        (FORBIDDEN wrong_customer), one whose request was closed meanwhile (request_closed)."""
        payload = self._signer.unsign(_PURPOSE, token,
                                      max_age_seconds=self._settings.identity_challenge_max_age_seconds)
        if not isinstance(payload, dict) or not {"request", "customer"} <= payload.keys():
            raise InvalidToken()
        try:
            request_id, customer_id = uuid.UUID(str(payload["request"])), uuid.UUID(str(payload["customer"]))
        except ValueError:
            raise InvalidToken() from None
        if viewer is not None and viewer.customer_id != customer_id:
            raise Forbidden("This link is for another account than the one logged in.", reason="wrong_customer")
        async with self._db.transaction() as session:
            request = await self._queue.lock(session, request_id)
            if request is None or request.customer_id != customer_id:
                raise InvalidToken()
            if request.identity_verified_at is not None:
                raise BadUserInput("This link was used already.", reason="token_used")
            if request.identity_challenge_hash != token_hash(token):
                raise InvalidToken()  # an older link, replaced by a newer one
            if request.status not in OPEN_STATUSES:
                raise Conflict("This request was closed.", reason="request_closed")
            request.identity_verified_at = now or utc_now()
            request.status, request.hold_reason = RequestStatus.RECEIVED.value, None
            session.add(request)
        logger.info("request identity confirmed request_id=%s customer_id=%s", request.id, customer_id)
        return request
