"""`disclose`: the one way personal data leaves the shop (P04, P09, P17). The payload is built from the
declarations: only columns the recipient is declared for, under the purpose at hand, with a legal
basis and, for consent-based purposes, the subject's live consent. Every disclosure is logged."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..consents.service import ConsentService
from ..errors import BadUserInput, ShopError
from ..privacy.declarations import PersonalData
from ..privacy.purposes import PURPOSES, LegalBasis
from ..privacy.recipients import Recipient
from ..privacy.taxonomy import covers
from ..storage.columns import PRIVACY_INFO_KEY
from ..storage.tables import Disclosure, OutboxMessage

logger = logging.getLogger("shop_privacy.disclosures")


class DisclosureRefused(ShopError):
    code = "PRIVACY_DENIED"


def payload_for(row: SQLModel, recipient: Recipient, purpose: str) -> dict[str, Any]:
    """The row's values this recipient may receive for this purpose, by the columns' declarations."""
    payload: dict[str, Any] = {}
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        declaration = column.info.get(PRIVACY_INFO_KEY)
        if not isinstance(declaration, PersonalData) or purpose not in declaration.purposes:
            continue
        if not all(any(covers(allowed, c) for allowed in recipient.categories) for c in declaration.categories):
            continue
        value = getattr(row, column.name)
        if value is not None:
            payload[column.name] = value if isinstance(value, str | int | bool) else str(value)
    return payload


class Disclosures:
    def __init__(self, recipients: Mapping[str, Recipient], consents: ConsentService) -> None:
        self.recipients = recipients
        self._consents = consents

    async def disclose(self, session: AsyncSession, recipient_key: str, *, customer_id: uuid.UUID, purpose: str,
                       row: SQLModel, reference: str | None = None) -> Disclosure:
        """Inside the caller's transaction: check, build the payload, log it, queue it for delivery."""
        recipient = self.recipients.get(recipient_key)
        if recipient is None:
            raise DisclosureRefused("No such recipient is declared.", reason="unknown_recipient")
        if purpose not in recipient.purposes:
            raise DisclosureRefused(f"{recipient.name} is not declared for {purpose}.", reason="purpose_not_declared")
        declared = PURPOSES.get(purpose)
        if declared is None or declared.legal_basis is None:
            raise DisclosureRefused("The purpose has no legal basis.", reason="no_legal_basis")
        if declared.needs_consent:
            live = await self._consents.live(session, [customer_id], purpose)
            if not live.get(customer_id):
                raise DisclosureRefused("The customer has not consented to this.", reason="no_consent")
        payload = payload_for(row, recipient, purpose)
        if not payload:
            raise DisclosureRefused("Nothing this recipient may receive.", reason="nothing_to_disclose")
        categories = sorted({c for name in payload for c in _declaration(row, name).categories})
        table = row.__table__.name  # type: ignore[attr-defined]
        disclosure = Disclosure(customer_id=customer_id, recipient=recipient.key, purpose=purpose,
                                legal_basis=str(declared.legal_basis), categories=",".join(categories),
                                fields=",".join(f"{table}.{name}" for name in sorted(payload)), reference=reference)
        session.add(disclosure)
        session.add(OutboxMessage(customer_id=customer_id, recipient=recipient.key, kind="disclose",
                                  payload=json.dumps({"purpose": purpose, "reference": reference, "data": payload},
                                                     ensure_ascii=False)))
        logger.info("disclosed customer_id=%s recipient=%s purpose=%s fields=%d", customer_id, recipient.key,
                    purpose, len(payload))
        return disclosure

    def record_legal_disclosure(self, session: AsyncSession, *, staff_id: uuid.UUID, customer_id: uuid.UUID,
                                recipient: str, legal_reference: str, categories: list[str]) -> Disclosure:
        """A disclosure required by law or a court order (P20), handed over by the DPO; only recorded here."""
        if not recipient.strip() or not legal_reference.strip() or not categories:
            raise BadUserInput("Name the recipient, the legal reference and what was disclosed.",
                               reason="incomplete_legal_disclosure")
        disclosure = Disclosure(customer_id=customer_id, recipient=recipient.strip(), purpose="legal_obligation",
                                legal_basis=str(LegalBasis.LEGAL_OBLIGATION), categories=",".join(sorted(categories)),
                                fields="", reference=legal_reference.strip(), recorded_by=staff_id)
        session.add(disclosure)
        return disclosure

    async def recipients_of(self, session: AsyncSession, customer_id: uuid.UUID, *,
                            purpose: str | None = None) -> list[str]:
        """The declared recipients that have received this customer's data (for a purpose)."""
        query = select(Disclosure.recipient).where(Disclosure.customer_id == customer_id).distinct()
        if purpose is not None:
            query = query.where(Disclosure.purpose == purpose)
        return sorted(r for r in (await session.exec(query)).all() if r in self.recipients)

    async def queue(self, session: AsyncSession, kind: str, customer_id: uuid.UUID, recipients: list[str],
                    payload: dict[str, Any]) -> int:
        for recipient in recipients:
            session.add(OutboxMessage(customer_id=customer_id, recipient=recipient, kind=kind,
                                      payload=json.dumps(payload, ensure_ascii=False)))
        if recipients:
            logger.info("queued kind=%s customer_id=%s recipients=%s", kind, customer_id, ",".join(recipients))
        return len(recipients)

    async def history(self, session: AsyncSession, customer_id: uuid.UUID) -> list[Disclosure]:
        query = select(Disclosure).where(Disclosure.customer_id == customer_id)
        return list((await session.exec(query.order_by(col(Disclosure.disclosed_at)))).all())


def _declaration(row: SQLModel, name: str) -> PersonalData:
    declaration = row.__table__.columns[name].info[PRIVACY_INFO_KEY]  # type: ignore[attr-defined]
    assert isinstance(declaration, PersonalData)
    return declaration
