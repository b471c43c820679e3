"""What each customer has stopped right now, read at the moment of use (like consent): the one query every
use of personal data asks before it goes ahead (staff reads, disclosures, marketing, consent grants)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..privacy.access import NO_LIMITS, ProcessingLimits, limit_reason
from ..storage.tables import Customer, ProcessingLimit


class LimitKind(enum.StrEnum):
    RESTRICTION = "restriction"
    OBJECTION = "objection"


class LimitStatus(enum.StrEnum):
    PENDING = "pending"  # asked for, the DPO has not decided yet (an objection to a legitimate interest)
    IN_FORCE = "in_force"
    REFUSED = "refused"  # the DPO found compelling grounds to go on; the reason is recorded
    LIFTED = "lifted"


async def limits_of(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ProcessingLimits]:
    """For each customer: restricted, and the purposes objected to, by the limits in force."""
    wanted = list(set(customer_ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(ProcessingLimit.customer_id, ProcessingLimit.kind, ProcessingLimit.purpose)
                               .where(col(ProcessingLimit.customer_id).in_(wanted),
                                      ProcessingLimit.status == LimitStatus.IN_FORCE.value))).all()
    restricted: set[uuid.UUID] = set()
    objected: dict[uuid.UUID, set[str]] = {}
    for customer_id, kind, purpose in rows:
        if kind == LimitKind.RESTRICTION:
            restricted.add(customer_id)
        elif purpose is not None:
            objected.setdefault(customer_id, set()).add(purpose)
    return {customer_id: ProcessingLimits(customer_id in restricted, frozenset(objected.get(customer_id, ())))
            if customer_id in restricted or customer_id in objected else NO_LIMITS for customer_id in wanted}


async def limits_of_one(session: AsyncSession, customer_id: uuid.UUID) -> ProcessingLimits:
    return (await limits_of(session, [customer_id]))[customer_id]


def stopped_for(purpose: str | None) -> ColumnElement[bool]:
    """SQL over `customers`: this customer's limits in force stop staff processing under `purpose` (the same
    decision as `privacy.access.limit_reason`, for a search that must not match them at all)."""
    if purpose is None:
        return false()  # no purpose: the search is refused before it runs
    stopping = [and_(col(ProcessingLimit.kind) == LimitKind.OBJECTION.value, col(ProcessingLimit.purpose) == purpose)]
    if limit_reason(ProcessingLimits(restricted=True), purpose, reading=True) is not None:
        stopping.append(col(ProcessingLimit.kind) == LimitKind.RESTRICTION.value)
    return exists().where(col(ProcessingLimit.customer_id) == col(Customer.id),
                          col(ProcessingLimit.status) == LimitStatus.IN_FORCE.value, or_(*stopping))
