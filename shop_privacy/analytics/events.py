"""Server-side analytics events (P16): a purchase goes to Google Analytics only while the customer's
analytics consent is live, with only what the registry lets Google Analytics receive (the address the
order was placed from), through `disclose`, so that it is logged like every disclosure. Without
consent nothing is sent and nothing is logged."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from ..disclosures.service import Disclosures
from ..storage.tables import Disclosure, Order

GOOGLE_ANALYTICS = "google_analytics"
PURPOSE = "analytics"


async def purchase_event(session: AsyncSession, disclosures: Disclosures, order: Order) -> Disclosure | None:
    """Inside the checkout's transaction: the purchase event, if the customer consented to analytics."""
    if order.customer_id is None or order.ip_address is None:
        return None
    if GOOGLE_ANALYTICS not in disclosures.recipients:
        return None  # a shop without Google Analytics
    if not await disclosures.consented(session, order.customer_id, PURPOSE):
        return None
    return await disclosures.disclose(session, GOOGLE_ANALYTICS, customer_id=order.customer_id, purpose=PURPOSE,
                                      row=order, reference=order.order_number)
