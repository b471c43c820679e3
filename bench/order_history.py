"""Order history: what does the GraphQL stack cost on top of the SQL it needs?

Two ways of answering "this customer's 50 newest orders, with all their lines":

* GraphQL: the storefront query `myOrders(first: 50)` with each order's lines, POSTed over HTTP to the
  real ASGI app (httpx.AsyncClient with httpx.ASGITransport: in process, no network). Each request pays
  for what a real one does: Starlette and the middleware, the session look-up behind the bearer token,
  strawberry (parse, validate, security extensions, execution), the async SQLAlchemy/SQLModel reads
  (the session, the orders, then the lines of the whole page, in one read transaction), the GraphQL
  types, JSON both ways.
* Plain SQL: the same 50 orders and their lines, read with the sync driver directly (sqlite3 or
  psycopg) on one open connection: two queries, the rows built into plain Python dicts.

Plain SQL is the floor; the ratio GraphQL/plain SQL is what the stack adds on top of it. The SQL
statements one GraphQL request executes are counted too (a `before_cursor_execute` listener on the
app's engine) to show the page costs a constant number of queries, not one per order.

    python bench/order_history.py [--database-url URL] [--orders 200] [--lines 5] [--iterations 200]

Without --database-url (or DATABASE_URL) a fresh SQLite file in a temporary directory is used. A
PostgreSQL database must already exist and should be empty: the script migrates it and adds one
customer with their orders.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.catalogue.demo import DEMO_PRODUCTS, seed_catalogue
from shop_privacy.pricing import vat_of
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings
from shop_privacy.storage.migrate import upgrade
from shop_privacy.storage.tables import Customer, Order, OrderLine
from shop_privacy.storage.urls import DatabaseURL

PAGE = 50
WARMUP = 20
VAT = 2500  # basis points

QUERY = """query OrderHistory($first: Int!) { myOrders(first: $first) { edges { node {
  id number placedAt status paymentMethod
  total { net { minorUnits currency } vat { minorUnits currency } gross { minorUnits currency } }
  lines { sku productName quantity unitPrice { net { minorUnits } } total { gross { minorUnits } } }
} } } }"""

ORDERS_SQL = (
    "SELECT id, order_number, placed_at, status, payment_method, currency, subtotal_net_minor, vat_minor "
    "FROM orders WHERE customer_id = {p} ORDER BY placed_at DESC, id DESC LIMIT {p}"
)
LINES_SQL = (
    "SELECT order_id, sku, product_name, quantity, unit_price_net_minor, line_net_minor, line_vat_minor "
    "FROM order_lines WHERE order_id {ids} ORDER BY order_id, position"
)

Dicts = list[dict[str, Any]]


# Data


async def seed(services: Services, orders: int, lines: int) -> tuple[uuid.UUID, str]:
    """One customer with `orders` orders of `lines` lines each; returns (customer id, session token)."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    password_hash = await services.hasher.hash("Bench-Lösenord-2026!")
    async with services.db.transaction() as session:
        await seed_catalogue(session)
        customer = Customer(email=f"bench.{uuid.uuid4().hex[:12]}@exempel.se", password_hash=password_hash,
                            first_name="Anna", last_name="Svensson")
        session.add(customer)
        await session.flush()
        prefix = customer.id.hex[:8].upper()  # order numbers are unique across customers
        for i in range(orders):
            products = [DEMO_PRODUCTS[(i + p) % len(DEMO_PRODUCTS)] for p in range(lines)]
            net = sum(product.net_minor for product in products)
            order = Order(customer_id=customer.id, order_number=f"SP-{prefix}-{i:06d}",
                          idempotency_key=f"bench-{i:06d}", status="PAID", payment_method="CARD_STRIPE",
                          payment_reference=f"pi_bench_{i}", currency="SEK", subtotal_net_minor=net,
                          vat_minor=vat_of(net, VAT), total_minor=net + vat_of(net, VAT),
                          placed_at=start + timedelta(hours=i),  # distinct, UTC
                          first_name="Anna", last_name="Svensson", email=customer.email)
            session.add(order)
            session.add_all(
                OrderLine(order_id=order.id, position=p, sku=product.sku, product_name=product.name,
                          kind=product.kind, billing_period=product.billing_period, quantity=1,
                          unit_price_net_minor=product.net_minor, vat_rate_basis_points=VAT,
                          line_net_minor=product.net_minor, line_vat_minor=vat_of(product.net_minor, VAT),
                          line_total_minor=product.net_minor + vat_of(product.net_minor, VAT))
                for p, product in enumerate(products)
            )
        # The same call a login makes: a session row, the token for the Authorization header.
        logged_in = await services.authentication.start_session(session, customer, client_ip=None, cart_token=None)
    return customer.id, logged_in.token


# Plain SQL


def orders_by_id(rows: Sequence[Sequence[Any]], to_datetime: Callable[[Any], datetime]) -> dict[Any, dict[str, Any]]:
    return {
        id_: {"id": id_, "number": number, "placed_at": to_datetime(placed_at), "status": status,
              "payment_method": method, "currency": currency,
              "total": {"net": net, "vat": vat, "gross": net + vat}, "lines": []}
        for id_, number, placed_at, status, method, currency, net, vat in rows
    }


def with_lines(orders: dict[Any, dict[str, Any]], rows: Sequence[Sequence[Any]]) -> Dicts:
    for order_id, sku, name, quantity, unit_net, line_net, line_vat in rows:
        orders[order_id]["lines"].append({"sku": sku, "product_name": name, "quantity": quantity,
                                          "unit_price_net": unit_net, "total_gross": line_net + line_vat})
    return list(orders.values())


def read_sqlite(db: sqlite3.Connection, customer_id: uuid.UUID) -> Dicts:
    # SQLAlchemy's Uuid is CHAR(32) hex on SQLite, and datetimes are naive UTC text.
    rows = db.execute(ORDERS_SQL.format(p="?"), (customer_id.hex, PAGE)).fetchall()
    orders = orders_by_id(rows, lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC))
    ids = list(orders)
    return with_lines(orders, db.execute(LINES_SQL.format(ids=f"IN ({','.join('?' * len(ids))})"), ids).fetchall())


def read_postgres(db: psycopg.Connection[Any], customer_id: uuid.UUID) -> Dicts:
    orders = orders_by_id(db.execute(ORDERS_SQL.format(p="%s"), (customer_id, PAGE)).fetchall(), lambda value: value)
    return with_lines(orders, db.execute(LINES_SQL.format(ids="= ANY(%s)"), (list(orders),)).fetchall())


@contextmanager
def plain_sql(url: DatabaseURL, customer_id: uuid.UUID) -> Iterator[Callable[[], Dicts]]:
    """A function reading the page with the database's own sync driver, on one open connection."""
    if url.is_sqlite:
        with closing(sqlite3.connect(url.url.database or "")) as sqlite:
            yield lambda: read_sqlite(sqlite, customer_id)
    else:
        conninfo = url.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as pg:
            yield lambda: read_postgres(pg, customer_id)


# Measuring


async def timed(run: Callable[[], Awaitable[object]], iterations: int) -> list[float]:
    """Milliseconds per call, after the warm-up."""
    for _ in range(WARMUP):
        await run()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def check_same(graphql: Dicts, plain: Dicts) -> None:
    """Both sides must have read the same orders and lines, or the comparison means nothing."""
    seen_by_graphql = [
        (o["number"], datetime.fromisoformat(o["placedAt"]), o["total"]["gross"]["minorUnits"],
         [(li["sku"], li["quantity"], li["unitPrice"]["net"]["minorUnits"], li["total"]["gross"]["minorUnits"])
          for li in o["lines"]])
        for o in graphql
    ]
    seen_by_sql = [
        (o["number"], o["placed_at"], o["total"]["gross"],
         [(li["sku"], li["quantity"], li["unit_price_net"], li["total_gross"]) for li in o["lines"]])
        for o in plain
    ]
    if seen_by_graphql != seen_by_sql:
        sys.exit("GraphQL and plain SQL read different data: the comparison would be meaningless")


@dataclass
class Figures:
    graphql_ms: list[float]
    sql_ms: list[float]
    statements_per_request: Counter[int]
    one_request: list[str]  # the statements of one GraphQL request


async def measure(app: Starlette, services: Services, url: DatabaseURL, customer_id: uuid.UUID, token: str,
                  iterations: int) -> Figures:
    statements: list[str] = []
    event.listen(services.db.engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers={"Authorization": f"Bearer {token}"}) as http:

        async def graphql() -> Dicts:
            response = await http.post("/graphql", json={"query": QUERY, "variables": {"first": PAGE}})
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                sys.exit(f"the GraphQL request failed: {response.status_code} {body.get('errors')}")
            return [edge["node"] for edge in body["data"]["myOrders"]["edges"]]

        per_request: Counter[int] = Counter()

        async def counted_graphql() -> None:
            before = len(statements)
            await graphql()
            per_request[len(statements) - before] += 1

        with plain_sql(url, customer_id) as read_sql:
            statements.clear()
            check_same(await graphql(), read_sql())
            one_request = list(statements)

            async def sql() -> None:  # synchronous inside: the driver blocks, as plain code would
                read_sql()

            graphql_ms = await timed(counted_graphql, iterations)
            sql_ms = await timed(sql, iterations)
    return Figures(graphql_ms, sql_ms, per_request, one_request)


def run_on_database(run: Callable[..., Awaitable[None]], database_url: str | None, *args: Any) -> None:
    """`run(url, *args)` on the given database, or on a fresh SQLite file that is removed afterwards."""
    if database_url:
        asyncio.run(run(database_url, *args))
        return
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as directory:
        asyncio.run(run(f"sqlite:///{Path(directory) / 'bench.db'}", *args))


def bench_settings(database_url: str, directory: str) -> Settings:
    """Development settings with the cheapest argon2id parameters the settings accept."""
    return Settings(
        database_url=database_url, secret_key="bench-secret-key-0123456789abcdef0123456789",
        mail_outbox_dir=Path(directory) / "outbox",
        password_time_cost=2, password_memory_kib=19456, password_parallelism=1,
    )


async def run(database_url: str, orders: int, lines: int, iterations: int) -> None:
    url = DatabaseURL.parse(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        settings = bench_settings(database_url, tmp)
        upgrade(url)
        services = build_services(settings)
        app = create_app(settings, services=services)
        async with app.router.lifespan_context(app):
            customer_id, token = await seed(services, orders, lines)
            figures = await measure(app, services, url, customer_id, token, iterations)
    report(url, orders, lines, iterations, figures)


def report(url: DatabaseURL, orders: int, lines: int, iterations: int, figures: Figures) -> None:
    print(f"database: {url.url.get_backend_name()} ({url})")
    page = min(PAGE, orders)
    print(f"data: 1 customer, {orders} orders x {lines} lines; page: {page} orders, {page * lines} lines")
    print(f"iterations: {iterations} per side, after {WARMUP} warm-up")
    counts = ", ".join(f"{n} in {times}" for n, times in sorted(figures.statements_per_request.items()))
    print(f"SQL statements per GraphQL request: {counts} of {figures.statements_per_request.total()} requests; "
          "one request ran:")
    for statement in figures.one_request:
        print("   ", " ".join(statement.split())[:100])
    gql, sql = figures.graphql_ms, figures.sql_ms
    print(f"\n{'':<30}{'median ms':>10}{'p95 ms':>10}")
    print(f"{'GraphQL myOrders(first: 50)':<30}{statistics.median(gql):>10.2f}{p95(gql):>10.2f}")
    print(f"{'plain SQL (2 queries)':<30}{statistics.median(sql):>10.2f}{p95(sql):>10.2f}")
    print(f"{'ratio GraphQL / plain SQL':<30}{statistics.median(gql) / statistics.median(sql):>10.1f}"
          f"{p95(gql) / p95(sql):>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="myOrders(first: 50) over HTTP against the same read in plain SQL.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="sqlite:///… or postgresql://… (default: $DATABASE_URL, else a temporary SQLite file)")
    parser.add_argument("--orders", type=int, default=200, help="orders of the customer (default 200)")
    parser.add_argument("--lines", type=int, default=5, help="lines per order (default 5)")
    parser.add_argument("--iterations", type=int, default=200, help="timed requests per side (default 200)")
    args = parser.parse_args()
    if args.orders < 1 or args.lines < 1 or args.iterations < 1:
        parser.error("--orders, --lines and --iterations must be at least 1")
    run_on_database(run, args.database_url, args.orders, args.lines, args.iterations)


if __name__ == "__main__":
    main()
