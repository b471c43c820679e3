"""Abandoned-cart reminders (P19): only for customers whose marketing consent is live right now, who have not
restricted the processing of their data or objected to marketing (Art. 18, 21)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..consents.service import ConsentService
from ..consents.unsubscribe import UnsubscribeLinks
from ..mail.mailer import Mail, Mailer
from ..pricing import line_amounts
from ..privacy.access import limit_reason
from ..restriction.limits import limits_of
from ..storage.database import Database
from ..storage.locks import lock_customer
from ..storage.tables import Cart, CartLine, Customer, Product
from ..storage.types import utc_now
from .mails import marketing_mail

logger = logging.getLogger("shop_privacy.marketing")

PURPOSE = "marketing"


@dataclass(frozen=True)
class Candidate:
    customer_id: uuid.UUID
    first_name: str
    email: str
    language: str
    items: int
    gross_minor: int
    cart_updated_at: datetime


class AbandonedCarts:
    def __init__(self, db: Database, consents: ConsentService, links: UnsubscribeLinks, mailer: Mailer) -> None:
        self._db = db
        self._consents = consents
        self._links = links
        self._mailer = mailer

    async def candidates(self, older_than: timedelta, now: datetime | None = None) -> list[Candidate]:
        cutoff = (now or utc_now()) - older_than
        async with self._db.read() as session:
            rows = (await session.exec(
                select(Cart, Customer).join(Customer, col(Customer.id) == col(Cart.customer_id))
                .where(col(Cart.updated_at) < cutoff)
                .where(select(func.count()).where(CartLine.cart_id == Cart.id).scalar_subquery() > 0)
            )).all()
            allowed = await self._may_use(session, [c.id for _, c in rows])
            found = []
            for cart, customer in rows:
                if not allowed.get(customer.id):
                    continue
                lines = (await session.exec(select(CartLine, Product).join(
                    Product, col(Product.id) == col(CartLine.product_id)).where(CartLine.cart_id == cart.id))).all()
                gross = sum(line_amounts(p.unit_price_net_minor, line.quantity, p.vat_rate_basis_points).gross
                            for line, p in lines)
                found.append(Candidate(customer.id, customer.first_name, customer.email, customer.preferred_language,
                                       sum(line.quantity for line, _ in lines), gross, cart.updated_at))
        return found

    async def _may_use(self, session: AsyncSession, customer_ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
        """Live marketing consent, and neither a restriction nor an objection stopping marketing."""
        consented = await self._consents.live(session, customer_ids, PURPOSE)
        limits = await limits_of(session, customer_ids)
        return {customer_id: consented[customer_id]
                and limit_reason(limits[customer_id], PURPOSE, reading=False) is None
                for customer_id in consented}

    async def send_reminders(self, older_than: timedelta) -> int:
        """A reminder to each candidate, checked again at the moment of sending and handed to the mail server
        under the customer's lock: a restriction or objection (which take that lock) waits for a send already
        under way, and a send that comes after it sees it, so no reminder goes out once one has committed.
        (One attempt: a marketing mail may be lost, never late.)"""
        sent = 0
        for candidate in await self.candidates(older_than):
            async with self._db.transaction() as session:
                customer = await lock_customer(session, candidate.customer_id)
                if customer is None:
                    continue
                if not (await self._may_use(session, [candidate.customer_id]))[candidate.customer_id]:
                    continue
                try:
                    await self._mailer.deliver(self._reminder(candidate, customer))
                except Exception as error:  # noqa: BLE001 - one failed mail does not stop the others
                    logger.warning("reminder not delivered customer_id=%s error=%s", candidate.customer_id,
                                   type(error).__name__)
                    continue
            sent += 1
        return sent

    def _reminder(self, candidate: Candidate, customer: Customer) -> Mail:
        """From the customer as locked now (their address may have changed since the list was made)."""
        swedish = customer.preferred_language == "sv"
        return marketing_mail(
            self._links, to=customer.email, customer_id=customer.id, purpose=PURPOSE,
            language=customer.preferred_language, kind="abandoned_cart",
            subject="Något kvar i varukorgen?" if swedish else "Something left in your cart?",
            text=(f"Hej {customer.first_name}!\n\nDu har {candidate.items} tjänster kvar i varukorgen."
                  if swedish else
                  f"Hello {customer.first_name},\n\nYou have {candidate.items} services left in your cart."))
