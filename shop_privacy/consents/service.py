"""Whether a consent is live, read at the moment of use. (Recording it: `ledger.ConsentLedger`.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.database import Database
from ..storage.tables import Consent

SOURCES = frozenset({"account_page", "checkout", "cookie_banner", "unsubscribe_link", "staff", "objection"})


class ConsentService:
    def __init__(self, db: Database, policy_version: str) -> None:
        self._db = db
        self.policy_version = policy_version

    async def live(self, session: AsyncSession, customer_ids: Iterable[uuid.UUID],
                   purpose: str) -> dict[uuid.UUID, bool]:
        """For each customer: is their newest record for `purpose` a grant? (No record: no consent.)"""
        wanted = list(set(customer_ids))
        if not wanted:
            return {}
        newest = (
            select(
                col(Consent.customer_id), col(Consent.granted),
                func.row_number().over(
                    partition_by=col(Consent.customer_id),
                    order_by=(col(Consent.recorded_at).desc(), col(Consent.id).desc()),
                ).label("position"),
            )
            .where(col(Consent.customer_id).in_(wanted), Consent.purpose == purpose)
            .subquery()
        )
        rows = (await session.exec(select(newest.c.customer_id, newest.c.granted).where(newest.c.position == 1))).all()
        live = {customer_id: bool(granted) for customer_id, granted in rows}
        return {customer_id: live.get(customer_id, False) for customer_id in wanted}
