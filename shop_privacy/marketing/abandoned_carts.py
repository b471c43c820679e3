"""Abandoned-cart reminders (P19): only for customers whose marketing consent is live right now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from ..consents.service import ConsentService
from ..consents.unsubscribe import UnsubscribeLinks
from ..mail.mailer import Mailer
from ..pricing import line_amounts
from ..storage.database import Database
from ..storage.tables import Cart, CartLine, Customer, Product
from ..storage.types import utc_now
from .mails import marketing_mail

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
            consented = await self._consents.live(session, [c.id for _, c in rows], PURPOSE)
            found = []
            for cart, customer in rows:
                if not consented.get(customer.id):
                    continue
                lines = (await session.exec(select(CartLine, Product).join(
                    Product, col(Product.id) == col(CartLine.product_id)).where(CartLine.cart_id == cart.id))).all()
                gross = sum(line_amounts(p.unit_price_net_minor, line.quantity, p.vat_rate_basis_points).gross
                            for line, p in lines)
                found.append(Candidate(customer.id, customer.first_name, customer.email, customer.preferred_language,
                                       sum(line.quantity for line, _ in lines), gross, cart.updated_at))
        return found

    async def send_reminders(self, older_than: timedelta) -> int:
        """A reminder to each candidate, its consent checked again at the moment of sending."""
        sent = 0
        for candidate in await self.candidates(older_than):
            async with self._db.read() as session:
                if not (await self._consents.live(session, [candidate.customer_id], PURPOSE))[candidate.customer_id]:
                    continue
            swedish = candidate.language == "sv"
            self._mailer.send(marketing_mail(
                self._links, to=candidate.email, customer_id=candidate.customer_id, purpose=PURPOSE,
                language=candidate.language, kind="abandoned_cart",
                subject="Något kvar i varukorgen?" if swedish else "Something left in your cart?",
                text=(f"Hej {candidate.first_name}!\n\nDu har {candidate.items} tjänster kvar i varukorgen."
                      if swedish else
                      f"Hello {candidate.first_name},\n\nYou have {candidate.items} services left in your cart.")))
            sent += 1
        return sent
