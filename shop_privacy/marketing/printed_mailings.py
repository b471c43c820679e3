"""Printed mailings (P18): a printer or media agency gets the name and postal address of each
addressee, nothing more, and only of customers whose marketing consent is live when it is sent. Each
addressee is a disclosure through `disclose`, logged, with the campaign as its reference."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import col, select

from ..disclosures.service import Disclosures
from ..errors import BadUserInput
from ..storage.database import Database
from ..storage.locks import lock_customer
from ..storage.tables import Consent, Customer

logger = logging.getLogger("shop_privacy.marketing")

PRINTER = "printer"
PURPOSE = "marketing"


@dataclass
class PrintedMailing:
    campaign: str
    sent: list[uuid.UUID] = field(default_factory=list)
    without_consent: list[uuid.UUID] = field(default_factory=list)
    without_address: list[uuid.UUID] = field(default_factory=list)  # nothing to print on the envelope


class PrintedMailings:
    def __init__(self, db: Database, disclosures: Disclosures) -> None:
        self._db = db
        self._disclosures = disclosures

    async def send(self, campaign: str, audience: Iterable[uuid.UUID] | None = None) -> PrintedMailing:
        """The addressees of `campaign` to the printer: `audience` (every customer who ever answered the
        marketing consent, when None), each checked for a live consent as its data goes out."""
        campaign = campaign.strip()
        if not campaign or len(campaign) > 200:
            raise BadUserInput("Name the campaign (at most 200 characters).", reason="campaign_name")
        if audience is None:
            async with self._db.read() as session:
                audience = (await session.exec(select(Consent.customer_id).where(
                    Consent.purpose == PURPOSE, col(Consent.customer_id).is_not(None)).distinct())).all()
        result = PrintedMailing(campaign)
        for customer_id in sorted({c for c in audience if c is not None}):
            # One transaction per addressee, under their lock: a withdrawal or an erasure at the same
            # moment either comes first (and nothing goes out) or waits for this one.
            async with self._db.transaction() as session:
                customer = await lock_customer(session, customer_id)
                if customer is None or not await self._disclosures.consented(session, customer_id, PURPOSE):
                    result.without_consent.append(customer_id)
                    continue
                if not _addressable(customer):
                    result.without_address.append(customer_id)
                    continue
                await self._disclosures.disclose(session, PRINTER, customer_id=customer_id, purpose=PURPOSE,
                                                 row=customer, reference=campaign)
                result.sent.append(customer_id)
        logger.info("printed mailing sent=%d without_consent=%d without_address=%d", len(result.sent),
                    len(result.without_consent), len(result.without_address))
        return result


def _addressable(customer: Customer) -> bool:
    return bool(customer.address_street and customer.address_postal_code and customer.address_city)
