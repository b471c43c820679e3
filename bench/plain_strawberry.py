"""The peer `bench/read_path.py` measures the shop against: plain strawberry serving the same order page.

What an experienced developer would write without a privacy layer: strawberry types, one SQLModel
session per request (its one transaction), the session look-up behind the bearer token through the
shop's own authentication service (any app needs one), the orders as ORM objects, each order's lines
through a DataLoader (one query for the page), strawberry's own ASGI view and JSON. No middleware, no
security extensions, no caches: strawberry as its documentation sets it up.
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader

from shop_privacy.pricing import vat_of
from shop_privacy.services import Services
from shop_privacy.storage.tables import Order, OrderLine


@strawberry.type
class Money:
    minor_units: int
    currency: str


@strawberry.type
class TaxedMoney:
    net: Money
    vat: Money
    gross: Money

    @classmethod
    def of(cls, net: int, vat: int, currency: str) -> TaxedMoney:
        return cls(net=Money(minor_units=net, currency=currency), vat=Money(minor_units=vat, currency=currency),
                   gross=Money(minor_units=net + vat, currency=currency))


@strawberry.type
class Line:
    sku: str
    product_name: str
    quantity: int
    unit_price: TaxedMoney
    total: TaxedMoney


@strawberry.type
class PlainOrder:
    id: strawberry.ID
    number: str
    placed_at: datetime
    status: str
    payment_method: str
    total: TaxedMoney
    row_id: strawberry.Private[uuid.UUID]
    currency: strawberry.Private[str]

    @strawberry.field
    async def lines(self, info: strawberry.Info) -> list[Line]:
        rows = await info.context["lines"].load(self.row_id)
        return [Line(sku=row.sku, product_name=row.product_name, quantity=row.quantity,
                     unit_price=TaxedMoney.of(row.unit_price_net_minor,
                                              vat_of(row.unit_price_net_minor, row.vat_rate_basis_points),
                                              self.currency),
                     total=TaxedMoney.of(row.line_net_minor, row.line_vat_minor, self.currency))
                for row in rows]


@strawberry.type
class Edge:
    cursor: str
    node: PlainOrder


@strawberry.type
class OrderConnection:
    edges: list[Edge]


def _cursor(order: Order) -> str:
    return base64.urlsafe_b64encode(f"{order.placed_at.isoformat()}|{order.id}".encode()).decode()


@strawberry.type
class Query:
    @strawberry.field
    async def my_orders(self, info: strawberry.Info, first: int = 20) -> OrderConnection | None:
        context = info.context
        session: AsyncSession = context["session"]
        viewer = await context["services"].authentication.viewer(session, context["token"])
        if viewer is None:
            return None
        query = (select(Order).where(Order.customer_id == viewer.customer_id)
                 .order_by(col(Order.placed_at).desc(), col(Order.id).desc()).limit(first))
        orders = (await session.exec(query)).all()
        return OrderConnection(edges=[
            Edge(cursor=_cursor(order), node=PlainOrder(
                id=strawberry.ID(str(order.id)), number=order.order_number, placed_at=order.placed_at,
                status=order.status, payment_method=order.payment_method,
                total=TaxedMoney.of(order.subtotal_net_minor, order.vat_minor, order.currency),
                row_id=order.id, currency=order.currency))
            for order in orders
        ])


schema = strawberry.Schema(query=Query)


class PlainView(GraphQL[dict[str, Any], None]):
    def __init__(self, services: Services) -> None:
        super().__init__(schema, graphql_ide=None)
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.setdefault("state", {})["plain_session"] = AsyncSession(self._services.db.engine)
        try:
            await super().__call__(scope, receive, send)
        finally:
            await session.close()

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        session: AsyncSession = request.scope["state"]["plain_session"]

        async def load_lines(order_ids: Sequence[uuid.UUID]) -> list[list[OrderLine]]:
            query = (select(OrderLine).where(col(OrderLine.order_id).in_(order_ids))
                     .order_by(col(OrderLine.order_id), col(OrderLine.position)))
            grouped: dict[uuid.UUID, list[OrderLine]] = defaultdict(list)
            for line in (await session.exec(query)).all():
                grouped[line.order_id].append(line)
            return [grouped[order_id] for order_id in order_ids]

        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return {"session": session, "services": self._services, "token": token,
                "lines": DataLoader(load_fn=load_lines)}



def plain_strawberry_app(services: Services) -> Starlette:
    return Starlette(routes=[Route("/graphql", PlainView(services), methods=["POST"])])
