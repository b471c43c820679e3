"""Registering the ordered domains when an order is delivered (P08): the registrant's details (the
order's contact) and the domain go to the domain registry through `disclose`, one disclosure per
domain, in the transaction that marks the order delivered."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..disclosures.service import Disclosures
from ..errors import Conflict
from ..storage.tables import Disclosure, Order, OrderLine

DOMAIN_REGISTRY = "domain_registry"
PURPOSE = "order_fulfilment"
DOMAIN_KIND = "DOMAIN"


async def register_domains(session: AsyncSession, disclosures: Disclosures, order: Order) -> list[Disclosure]:
    """Inside the delivering transaction: each ordered domain, with its registrant, to the registry."""
    lines = (await session.exec(select(OrderLine).where(
        OrderLine.order_id == order.id, OrderLine.kind == DOMAIN_KIND, col(OrderLine.domain_name).is_not(None),
    ).order_by(col(OrderLine.position)))).all()
    if not lines:
        return []
    if order.customer_id is None:
        raise Conflict("The order's customer is erased: there is no registrant for its domains.",
                       reason="no_registrant")
    return [await disclosures.disclose(session, DOMAIN_REGISTRY, customer_id=order.customer_id, purpose=PURPOSE,
                                       row=[order, line], reference=order.order_number) for line in lines]
