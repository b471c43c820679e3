"""Giving and withdrawing consent (P03, P16, P27): as easy one way as the other, recorded with when,
how and under which policy version, and acted on at once: a newsletter grant subscribes the customer
at the newsletter service, a withdrawal tells every recipient that got data for that purpose."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..disclosures.service import Disclosures
from ..errors import BadUserInput, Unauthenticated
from ..privacy.cookies import COOKIE_PURPOSES
from ..privacy.purposes import PURPOSES
from ..restriction.limits import limits_of_one
from ..storage.database import Database
from ..storage.tables import Consent, Customer
from ..storage.tables.disclosures import DisclosureKind
from ..tokens import InvalidToken, Signer, new_token, token_hash
from .service import SOURCES, ConsentService

logger = logging.getLogger("shop_privacy.consents")

# A visitor without an account may only answer the cookie banner.
VISITOR_PURPOSES = frozenset(COOKIE_PURPOSES)
# Granting these subscribes the customer at the recipient that runs them.
SUBSCRIBE_ON_GRANT = {"newsletter": "mailchimp"}
_VISITOR = "visitor"


@dataclass(frozen=True)
class ConsentOwner:
    customer_id: uuid.UUID | None
    visitor_token: str | None


@dataclass(frozen=True)
class ConsentChange:
    consent: Consent
    issued_visitor_token: str | None  # for the cookie, when a visitor consents for the first time


class ConsentLedger:
    def __init__(self, db: Database, consents: ConsentService, disclosures: Disclosures, signer: Signer,
                 visitor_max_age_seconds: int) -> None:
        self._db = db
        self._consents = consents
        self._disclosures = disclosures
        self._signer = signer
        self._visitor_max_age = visitor_max_age_seconds

    def visitor_key(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            raw = self._signer.unsign(_VISITOR, token, max_age_seconds=self._visitor_max_age)
        except InvalidToken:
            return None
        return token_hash(raw) if isinstance(raw, str) else None

    async def set(self, owner: ConsentOwner, purpose: str, granted: bool, source: str) -> ConsentChange:
        if purpose not in PURPOSES or not PURPOSES[purpose].needs_consent:
            raise BadUserInput(f"{purpose!r} does not ask for consent.", reason="not_a_consent_purpose")
        if source not in SOURCES or source in {"unsubscribe_link", "staff", "objection"}:
            raise BadUserInput("Unknown consent source.", reason="unknown_source")
        if owner.customer_id is None and purpose not in VISITOR_PURPOSES:
            raise Unauthenticated("Log in to give or withdraw this consent.")
        issued = None
        visitor_key = None
        if owner.customer_id is None:
            visitor_key = self.visitor_key(owner.visitor_token)
            if visitor_key is None:
                raw = new_token()
                visitor_key, issued = token_hash(raw), self._signer.sign(_VISITOR, raw)
        async with self._db.transaction() as session:
            consent = await self.record(session, owner.customer_id, purpose, granted, source, visitor_key=visitor_key)
        return ConsentChange(consent, issued)

    async def record(self, session: AsyncSession, customer_id: uuid.UUID | None, purpose: str, granted: bool,
                     source: str, *, visitor_key: str | None = None) -> Consent:
        """Inside the caller's transaction: the record, and what it sets in motion. A grant for a purpose the
        customer objected to is refused until they lift the objection themselves (Art. 21(3))."""
        if granted and customer_id is not None and purpose in (await limits_of_one(session, customer_id)).objected:
            raise BadUserInput(f"You objected to {purpose}, so it cannot be turned on again until you lift the "
                               "objection yourself (liftMarketingObjection).", reason="objected")
        consent = Consent(customer_id=customer_id, visitor_key=visitor_key, purpose=purpose, granted=granted,
                          source=source, policy_version=self._consents.policy_version)
        session.add(consent)
        await session.flush()
        if customer_id is not None:
            await self._act_on(session, customer_id, purpose, granted)
        logger.info("consent customer_id=%s purpose=%s granted=%s source=%s", customer_id or "-", purpose,
                    granted, source)
        return consent

    async def _act_on(self, session: AsyncSession, customer_id: uuid.UUID, purpose: str, granted: bool) -> None:
        if granted and purpose in SUBSCRIBE_ON_GRANT:
            customer = await session.get(Customer, customer_id)
            if customer is not None:
                await self._disclosures.disclose(session, SUBSCRIBE_ON_GRANT[purpose], customer_id=customer_id,
                                                 purpose=purpose, row=customer)
        elif not granted:
            received = await self._disclosures.received(session, customer_id, purpose=purpose)
            customer = await session.get(Customer, customer_id)
            await self._disclosures.notify(session, DisclosureKind.UNSUBSCRIBE, customer_id, received,
                                           source=Customer, data={"email": customer.email} if customer else {})

    async def withdraw_by_link(self, customer_id: uuid.UUID, purpose: str) -> bool:
        """The unsubscribe link (P10): withdraws once; again, it changes nothing. True if it withdrew."""
        async with self._db.transaction() as session:
            live = await self._consents.live(session, [customer_id], purpose)
            if not live.get(customer_id):
                return False
            await self.record(session, customer_id, purpose, False, "unsubscribe_link")
        return True

    async def adopt_visitor(self, session: AsyncSession, visitor_token: str | None, customer_id: uuid.UUID) -> int:
        """At login: the visitor's cookie consents become the customer's (their history with them)."""
        key = self.visitor_key(visitor_token)
        if key is None:
            return 0
        result = await session.exec(update(Consent).where(col(Consent.visitor_key) == key)  # type: ignore[call-overload]
                                    .values(customer_id=customer_id, visitor_key=None))
        return int(result.rowcount or 0)

    async def history(self, session: AsyncSession, owner: ConsentOwner) -> list[Consent]:
        if owner.customer_id is not None:
            query = select(Consent).where(Consent.customer_id == owner.customer_id)
        else:
            key = self.visitor_key(owner.visitor_token)
            if key is None:
                return []
            query = select(Consent).where(Consent.visitor_key == key)
        return list((await session.exec(query.order_by(col(Consent.recorded_at), col(Consent.id)))).all())
