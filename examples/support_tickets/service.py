"""The shop's own code for tickets: open one (refusing card numbers in the free text), hand it to the
helpdesk through the disclosure registry, close it."""

from __future__ import annotations

import uuid

from shop_privacy.errors import BadUserInput
from shop_privacy.privacy.card_numbers import contains_card_number
from shop_privacy.services import Services
from shop_privacy.storage.types import utc_now

from .tables import SupportTicket
from .vocabulary import HELPDESK, SUPPORT

MAX_BODY = 5000


class SupportTickets:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def open(self, customer_id: uuid.UUID, subject: str, body: str) -> SupportTicket:
        subject, body = subject.strip(), body.strip()
        if not subject or not body or len(subject) > 200 or len(body) > MAX_BODY:
            raise BadUserInput(f"A ticket needs a subject (at most 200 characters) and a message (at most {MAX_BODY}).",
                               reason="invalid_ticket")
        if contains_card_number(subject) or contains_card_number(body):
            raise BadUserInput("Please do not write card numbers in a ticket.", reason="card_number")
        async with self._services.db.transaction() as session:
            ticket = SupportTicket(customer_id=customer_id, subject=subject, body=body)
            session.add(ticket)
            await session.flush()
            # In the same transaction: the ticket and its disclosure are written together, or neither is.
            await self._services.disclosures.disclose(session, HELPDESK.key, customer_id=customer_id, purpose=SUPPORT,
                                                      row=ticket, reference=str(ticket.id))
        return ticket

    async def close(self, ticket_id: uuid.UUID) -> None:
        async with self._services.db.transaction() as session:
            ticket = await session.get(SupportTicket, ticket_id)
            if ticket is None:
                raise BadUserInput("No such ticket.", reason="unknown_ticket")
            ticket.status, ticket.closed_at = "closed", utc_now()
            session.add(ticket)
