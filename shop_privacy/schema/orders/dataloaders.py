"""Dataloaders of the orders domain: one query for the lines (or the history) of a whole page of orders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from ...storage.tables import OrderEvent, OrderLine
from ..core.context import BaseContext


def _order_lines(context: BaseContext) -> DataLoader[uuid.UUID, list[OrderLine]]:
    async def load(order_ids: Sequence[uuid.UUID]) -> list[list[OrderLine]]:
        async with context.read() as session:
            grouped = await context.services.orders.lines_by_order(session, order_ids)
        return [grouped.get(order_id, []) for order_id in order_ids]

    return DataLoader(load_fn=load)


def order_lines(context: BaseContext) -> DataLoader[uuid.UUID, list[OrderLine]]:
    return context.loader("order_lines", _order_lines)


def _order_events(context: BaseContext) -> DataLoader[uuid.UUID, list[OrderEvent]]:
    async def load(order_ids: Sequence[uuid.UUID]) -> list[list[OrderEvent]]:
        async with context.read() as session:
            grouped = await context.services.orders.events_by_order(session, order_ids)
        return [grouped.get(order_id, []) for order_id in order_ids]

    return DataLoader(load_fn=load)


def order_events(context: BaseContext) -> DataLoader[uuid.UUID, list[OrderEvent]]:
    return context.loader("order_events", _order_events)
