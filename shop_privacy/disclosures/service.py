"""`disclose`: the one way personal data leaves the shop (P04, P09, P17). The payload is built from the
declarations: only columns the recipient is declared for, under the purpose at hand, with a legal
basis and, for consent-based purposes, the subject's live consent. Every disclosure is logged, and so
is every notice that follows one (an unsubscribe, a request to erase, a correction: `notify`)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..consents.service import ConsentService
from ..errors import BadUserInput, NotFound, ShopError
from ..privacy.access import Reason, limit_reason
from ..privacy.declarations import PersonalData
from ..privacy.purposes import PURPOSES, LegalBasis, Purpose
from ..privacy.recipients import Recipient
from ..privacy.taxonomy import covers
from ..restriction.limits import limits_of_one
from ..storage.columns import PRIVACY_INFO_KEY
from ..storage.tables import Disclosure, OutboxMessage
from ..storage.tables.disclosures import DisclosureKind
from ..storage.types import utc_now

logger = logging.getLogger("shop_privacy.disclosures")

LEGAL_OBLIGATION = "legal_obligation"


class DisclosureRefused(ShopError):
    code = "PRIVACY_DENIED"


@dataclass(frozen=True)
class Received:
    """What a recipient has had about a customer: for which purposes (first first), which fields."""

    recipient: str
    purposes: tuple[str, ...]
    fields: frozenset[str]  # "table.column"
    categories: frozenset[str]


def _declaration_of(row: SQLModel | type[SQLModel], name: str) -> PersonalData | None:
    declaration = row.__table__.columns[name].info.get(PRIVACY_INFO_KEY)  # type: ignore[attr-defined]
    return declaration if isinstance(declaration, PersonalData) else None


def _may_receive(recipient: Recipient, declaration: PersonalData) -> bool:
    return all(any(covers(allowed, c) for allowed in recipient.categories) for c in declaration.categories)


def payload_for(row: SQLModel, recipient: Recipient, purpose: str) -> dict[str, Any]:
    """The row's values this recipient may receive for this purpose, by the columns' declarations."""
    payload: dict[str, Any] = {}
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        declaration = column.info.get(PRIVACY_INFO_KEY)
        if not isinstance(declaration, PersonalData) or purpose not in declaration.purposes:
            continue
        if not _may_receive(recipient, declaration):
            continue
        value = getattr(row, column.name)
        if value is not None:
            payload[column.name] = _plain(value)
    return payload


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | bool) else str(value)


class Disclosures:
    def __init__(self, recipients: Mapping[str, Recipient], consents: ConsentService) -> None:
        self.recipients = recipients
        self._consents = consents

    def _checked(self, recipient_key: str, purpose: str) -> tuple[Recipient, Purpose]:
        """The recipient and the purpose, if the registry declares the one for the other (P17)."""
        recipient = self.recipients.get(recipient_key)
        if recipient is None:
            raise DisclosureRefused("No such recipient is declared.", reason="unknown_recipient")
        if purpose not in recipient.purposes:
            raise DisclosureRefused(f"{recipient.name} is not declared for {purpose}.", reason="purpose_not_declared")
        declared = PURPOSES.get(purpose)
        if declared is None or declared.legal_basis is None:
            raise DisclosureRefused("The purpose has no legal basis.", reason="no_legal_basis")
        return recipient, declared

    async def consented(self, session: AsyncSession, customer_id: uuid.UUID, purpose: str) -> bool:
        """True unless the purpose needs consent and the customer's is not live right now."""
        declared = PURPOSES.get(purpose)
        if declared is None or not declared.needs_consent:
            return True
        return bool((await self._consents.live(session, [customer_id], purpose)).get(customer_id))

    async def check(self, session: AsyncSession, recipient_key: str, *, customer_id: uuid.UUID,
                    purpose: str) -> Recipient:
        """Inside the caller's transaction: may this customer's data go to this recipient for this purpose now?
        Raises `DisclosureRefused` if not. Call it before anything that cannot be rolled back (a payment
        started at a provider), so a refused disclosure leaves nothing half done."""
        recipient, _ = self._checked(recipient_key, purpose)
        # Read in the caller's transaction: a restriction or objection committed before it is seen.
        stopped = limit_reason(await limits_of_one(session, customer_id), purpose, reading=False)
        if stopped is Reason.RESTRICTED:
            raise DisclosureRefused("The customer has restricted the processing of their data: only a disclosure "
                                    "required by law may go out.", reason=stopped.value)
        if stopped is Reason.OBJECTED:
            raise DisclosureRefused(f"The customer objected to {purpose}, and it has stopped.", reason=stopped.value)
        if not await self.consented(session, customer_id, purpose):
            raise DisclosureRefused("The customer has not consented to this.", reason="no_consent")
        return recipient

    async def disclose(self, session: AsyncSession, recipient_key: str, *, customer_id: uuid.UUID, purpose: str,
                       row: SQLModel | Sequence[SQLModel], reference: str | None = None) -> Disclosure:
        """Inside the caller's transaction: check, build the payload, log it, queue it for delivery.
        Several rows (an order and one of its lines) make one payload; their columns must not collide."""
        recipient = await self.check(session, recipient_key, customer_id=customer_id, purpose=purpose)
        declared = PURPOSES[purpose]
        rows = [row] if isinstance(row, SQLModel) else list(row)
        payload: dict[str, Any] = {}
        fields: list[str] = []
        categories: set[str] = set()
        for each in rows:
            table = each.__table__.name  # type: ignore[attr-defined]
            for name, value in payload_for(each, recipient, purpose).items():
                if name in payload:
                    raise ValueError(f"{table}.{name} collides with another row's column")
                payload[name] = value
                fields.append(f"{table}.{name}")
                declaration = _declaration_of(each, name)
                assert declaration is not None
                categories.update(declaration.categories)
        if not payload:
            raise DisclosureRefused("Nothing this recipient may receive.", reason="nothing_to_disclose")
        disclosure = self._log(session, DisclosureKind.DISCLOSE, customer_id, recipient, purpose, declared,
                               categories, fields, reference)
        session.add(OutboxMessage(customer_id=customer_id, recipient=recipient.key, kind=DisclosureKind.DISCLOSE,
                                  payload=json.dumps({"purpose": purpose, "reference": reference, "data": payload},
                                                     ensure_ascii=False)))
        logger.info("disclosed customer_id=%s recipient=%s purpose=%s fields=%d", customer_id, recipient.key,
                    purpose, len(payload))
        return disclosure

    def _log(self, session: AsyncSession, kind: DisclosureKind, customer_id: uuid.UUID, recipient: Recipient,
             purpose: str, declared: Purpose, categories: Iterable[str], fields: Iterable[str],
             reference: str | None) -> Disclosure:
        disclosure = Disclosure(customer_id=customer_id, recipient=recipient.key, kind=kind.value, purpose=purpose,
                                legal_basis=str(declared.legal_basis), categories=",".join(sorted(set(categories))),
                                fields=",".join(sorted(set(fields))), reference=reference)
        session.add(disclosure)
        return disclosure

    async def notify(self, session: AsyncSession, kind: DisclosureKind, customer_id: uuid.UUID,
                     recipients: Sequence[Received], *, source: type[SQLModel], data: Mapping[str, Any],
                     extra: Mapping[str, Any] | None = None, reference: str | None = None) -> list[Disclosure]:
        """Inside the caller's transaction: a notice (unsubscribe, erase, rectify) to each recipient that
        had the customer's data, under the purpose it had it for. Each carries only the values of `data`
        (columns of `source`) that its recipient is declared to receive, and is logged like a disclosure.
        It follows a disclosure made earlier, so it needs no consent of its own: it carries out the
        customer's withdrawal, erasure or correction (Art. 7(3), 17(2), 19)."""
        logged = []
        table = source.__table__.name  # type: ignore[attr-defined]
        for received in recipients:
            purpose = received.purposes[0]
            recipient, declared = self._checked(received.recipient, purpose)
            values: dict[str, Any] = {}
            categories: set[str] = set()
            for name, value in data.items():
                declaration = _declaration_of(source, name)
                if declaration is None or not _may_receive(recipient, declaration):
                    continue
                if value is None and kind is not DisclosureKind.RECTIFY:
                    continue  # a correction may clear a value: that null is the news
                values[name] = None if value is None else _plain(value)
                categories.update(declaration.categories)
            if kind is DisclosureKind.RECTIFY and not values:
                continue  # nothing of the correction is this recipient's to know
            logged.append(self._log(session, kind, customer_id, recipient, purpose, declared, categories,
                                    (f"{table}.{name}" for name in values), reference))
            session.add(OutboxMessage(customer_id=customer_id, recipient=recipient.key, kind=kind.value,
                                      payload=json.dumps({"purpose": purpose, "reference": reference,
                                                          **(extra or {}), "data": values}, ensure_ascii=False)))
        if recipients:
            logger.info("queued kind=%s customer_id=%s recipients=%s", kind.value, customer_id,
                        ",".join(r.recipient for r in recipients))
        return logged

    def record_legal_disclosure(self, session: AsyncSession, *, staff_id: uuid.UUID, customer_id: uuid.UUID,
                                recipient: str, legal_reference: str, categories: list[str]) -> Disclosure:
        """A disclosure required by law or a court order (P20), handed over by the DPO; only recorded here."""
        if not recipient.strip() or not legal_reference.strip() or not categories:
            raise BadUserInput("Name the recipient, the legal reference and what was disclosed.",
                               reason="incomplete_legal_disclosure")
        disclosure = Disclosure(customer_id=customer_id, recipient=recipient.strip(), purpose=LEGAL_OBLIGATION,
                                legal_basis=str(LegalBasis.LEGAL_OBLIGATION), categories=",".join(sorted(categories)),
                                fields="", reference=legal_reference.strip(), recorded_by=staff_id)
        session.add(disclosure)
        return disclosure

    async def mark_confidential(self, session: AsyncSession, *, staff_id: uuid.UUID, disclosure_id: uuid.UUID,
                                reason: str, until: datetime, now: datetime | None = None) -> Disclosure:
        """An authority asked for secrecy about a legal disclosure (P20): until `until` the customer is not
        shown it; the DPO sees it, with the reason and the end date."""
        now = now or utc_now()
        disclosure = await session.get(Disclosure, disclosure_id, with_for_update=True)
        if disclosure is None:
            raise NotFound("No such disclosure.")
        if disclosure.purpose != LEGAL_OBLIGATION:
            raise BadUserInput("Only a disclosure required by law can be kept confidential.",
                               reason="not_a_legal_disclosure")
        if not reason.strip():
            raise BadUserInput("Say why the disclosure is confidential (who asked for secrecy).",
                               reason="confidentiality_reason_missing")
        if until.tzinfo is None:
            raise BadUserInput("Give the end date with its time zone.", reason="naive_datetime")
        if until <= now:
            raise BadUserInput("The end of the confidentiality must be in the future.",
                               reason="confidential_until_past")
        disclosure.confidential_reason, disclosure.confidential_until = reason.strip(), until
        disclosure.confidential_marked_by = staff_id
        session.add(disclosure)
        logger.info("disclosure marked confidential disclosure_id=%s customer_id=%s staff_id=%s", disclosure.id,
                    disclosure.customer_id, staff_id)
        return disclosure

    async def received(self, session: AsyncSession, customer_id: uuid.UUID, *,
                       purpose: str | None = None) -> list[Received]:
        """The declared recipients that have been given this customer's data (for a purpose): the
        purposes, first first, and the fields. Notices sent later add nothing to what they received."""
        query = (select(Disclosure).where(Disclosure.customer_id == customer_id,
                                          Disclosure.kind == DisclosureKind.DISCLOSE.value)
                 .order_by(col(Disclosure.disclosed_at), col(Disclosure.id)))
        if purpose is not None:
            query = query.where(Disclosure.purpose == purpose)
        purposes: dict[str, list[str]] = {}
        fields: dict[str, set[str]] = {}
        categories: dict[str, set[str]] = {}
        for row in (await session.exec(query)).all():
            if row.recipient not in self.recipients:
                continue  # a disclosure by law: its recipient is no part of the registry
            seen = purposes.setdefault(row.recipient, [])
            if row.purpose not in seen:
                seen.append(row.purpose)
            fields.setdefault(row.recipient, set()).update(f for f in row.fields.split(",") if f)
            categories.setdefault(row.recipient, set()).update(c for c in row.categories.split(",") if c)
        return [Received(key, tuple(purposes[key]), frozenset(fields[key]), frozenset(categories[key]))
                for key in sorted(purposes)]

    async def pass_on_correction(self, session: AsyncSession, row: SQLModel, customer_id: uuid.UUID,
                                 columns: Sequence[str], *, reference: str) -> list[Disclosure]:
        """Art. 19 (P23), inside the correcting transaction: each recipient that was given a value of a
        corrected column's category is sent the new value, under the purpose it had the data for, and it
        is logged. A recipient that had the data only under a consent the customer has since withdrawn
        is not sent anything new: the withdrawal told it to stop. The old value is never sent or kept."""
        corrected = {name: d for name in columns if (d := _declaration_of(row, name)) is not None}
        if not corrected:
            return []
        told = []
        for received in await self.received(session, customer_id):
            wanted = {name: getattr(row, name) for name, declaration in corrected.items()
                      if any(covers(had, c) or covers(c, had)
                             for had in received.categories for c in declaration.categories)}
            if not wanted:
                continue
            purposes = tuple([p for p in received.purposes if await self.consented(session, customer_id, p)])
            if not purposes:
                continue
            told += await self.notify(session, DisclosureKind.RECTIFY, customer_id,
                                      [Received(received.recipient, purposes, received.fields, received.categories)],
                                      source=type(row), data=wanted, reference=reference)
        return told

    async def told_of_corrections(self, session: AsyncSession, customer_id: uuid.UUID) -> dict[tuple[str, str],
                                                                                            list[str]]:
        """(reference, "table.column") -> the recipients sent that correction, for the customer to see."""
        query = (select(Disclosure).where(Disclosure.customer_id == customer_id,
                                          Disclosure.kind == DisclosureKind.RECTIFY.value)
                 .order_by(col(Disclosure.disclosed_at), col(Disclosure.recipient)))
        told: dict[tuple[str, str], list[str]] = {}
        for row in (await session.exec(query)).all():
            for name in (f for f in row.fields.split(",") if f):
                told.setdefault((row.reference or "", name), []).append(row.recipient)
        return told

    async def history(self, session: AsyncSession, customer_id: uuid.UUID) -> list[Disclosure]:
        """Everything logged about the customer, confidential disclosures too: for the DPO."""
        query = select(Disclosure).where(Disclosure.customer_id == customer_id)
        return list((await session.exec(query.order_by(col(Disclosure.disclosed_at)))).all())
