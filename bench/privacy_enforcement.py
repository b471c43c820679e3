"""Field-level privacy: what does enforcement cost on the storefront's order history?

The same `myOrders(first: 50)` query (each order with its lines, as in order_history.py), in one
process, on the same data and the same services, against two apps:

* enforced: the app as shipped (`create_app`): each object is shaped by the privacy guard as it is
  built, each personal field checks for a withheld value, the privacy extension runs;
* not enforced: the same storefront schema built with `enforce_privacy=False` (no privacy extension,
  an open guard), served by the same GraphQL view behind the same request middleware
  (`shop_privacy.app.request_middleware`). Only a benchmark builds this.

Requests alternate between the two so machine noise lands on both alike; the garbage collector is
frozen after set-up for the same reason. The target is a median ratio enforced / not enforced ≤ 1.15.
A second figure shows a staff query (`orders(filter: {customerId}, first: 50)` with lines, purpose
BOOKKEEPING), whose enforcement also records every read in the hash-chained access log (one append
per request).

    python bench/privacy_enforcement.py [--database-url URL] [--orders 200] [--lines 5] [--iterations 300]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import httpx
from order_history import PAGE, QUERY, WARMUP, bench_settings, p95, run_on_database, seed  # type: ignore[import-not-found]
from starlette.applications import Starlette
from starlette.routing import Route

from shop_privacy.app import create_app, request_middleware
from shop_privacy.schema.admin_schema import admin_schema
from shop_privacy.schema.core.context import AdminContext
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.schema.storefront import storefront_schema
from shop_privacy.services import Services, build_services
from shop_privacy.storage.migrate import upgrade
from shop_privacy.web.graphql_view import GraphQLView
from shop_privacy.web.startup import Startup

TARGET = 1.15
STAFF_QUERY = """query($customer: ID!) @purpose(use: BOOKKEEPING) { orders(filter: {customerId: $customer},
  first: 50) { edges { node { id number placedAt status paymentMethod
  total { net { minorUnits currency } vat { minorUnits currency } gross { minorUnits currency } }
  lines { sku productName quantity unitPrice { net { minorUnits } } total { gross { minorUnits } } } } } } }"""


async def _started() -> None:
    """The unenforced app shares the shop's services, whose start-up checks the shop's lifespan ran."""


def unenforced_app(services: Services) -> Starlette:
    """The shop's routes for GraphQL and the shop's request middleware, with enforcement off: the two apps
    differ by enforcement only (before 2026-11-24 this side had no middleware, which put the middleware's
    cost, about 2 % of a staff read, into the enforced side's ratio)."""
    settings = services.settings
    startup = Startup(_started)
    return Starlette(middleware=request_middleware(settings, startup), routes=[
        Route("/graphql", GraphQLView(storefront_schema(settings, enforce_privacy=False), services,
                                      graphiql=False, enforce_privacy=False), methods=["POST"]),
        Route("/admin/graphql", GraphQLView(admin_schema(settings, enforce_privacy=False), services,
                                            graphiql=False, context_class=AdminContext, enforce_privacy=False),
              methods=["POST"]),
    ])


def poster(app: Starlette, path: str, query: str, variables: dict[str, object],
           headers: dict[str, str]) -> Callable[[], Awaitable[None]]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers)

    async def post() -> None:
        response = await http.post(path, json={"query": query, "variables": variables})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            sys.exit(f"request failed: {response.status_code} {body.get('errors')}")

    return post


async def alternate(first: Callable[[], Awaitable[None]], second: Callable[[], Awaitable[None]],
                    iterations: int) -> tuple[list[float], list[float]]:
    for _ in range(WARMUP):
        await first()
        await second()
    gc.collect()
    gc.freeze()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(iterations):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for side in order:
            started = time.perf_counter()
            await (first, second)[side]()
            times[side].append((time.perf_counter() - started) * 1000)
    gc.unfreeze()
    return times


async def staff_token(services: Services) -> str:
    await services.staff.create({"email": "accounting@bench.example", "display_name": "Bench Accounting",
                                 "role": "accounting", "password": "Bench-Bokföring-2026!"})
    token, _ = await services.staff.login("accounting@bench.example", "Bench-Bokföring-2026!", client_ip=None)
    return token


async def run(database_url: str, orders: int, lines: int, iterations: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-privacy-") as tmp:
        settings = bench_settings(database_url, tmp)
        upgrade(database_url)
        services = build_services(settings)
        enforced = create_app(settings, services=services)
        plain = unenforced_app(services)
        async with enforced.router.lifespan_context(enforced):
            customer_id, token = await seed(services, orders, lines)
            customer = {"Authorization": f"Bearer {token}"}
            storefront = await alternate(
                poster(enforced, "/graphql", QUERY, {"first": PAGE}, customer),
                poster(plain, "/graphql", QUERY, {"first": PAGE}, customer), iterations)
            staff = {"Authorization": f"Bearer {await staff_token(services)}"}
            variables = {"customer": encode_id("Customer", customer_id)}
            admin = await alternate(
                poster(enforced, "/admin/graphql", STAFF_QUERY, variables, staff),
                poster(plain, "/admin/graphql", STAFF_QUERY, variables, staff), max(iterations // 3, 20))
    print(f"database: {services.db.url.url.get_backend_name()}; {orders} orders x {lines} lines; "
          f"page: {min(PAGE, orders)} orders; {iterations} alternating requests per side after {WARMUP} warm-up")
    print(f"\n{'':<52}{'median ms':>10}{'p95 ms':>10}")
    rows = (("customer myOrders(first: 50)", storefront), ("staff orders(first: 50), BOOKKEEPING", admin))
    for label, (on, off) in rows:
        print(f"{label + ', enforced':<52}{statistics.median(on):>10.2f}{p95(on):>10.2f}")
        print(f"{label + ', not enforced':<52}{statistics.median(off):>10.2f}{p95(off):>10.2f}")
        print(f"{'  ratio enforced / not enforced':<52}{statistics.median(on) / statistics.median(off):>10.3f}"
              f"{p95(on) / p95(off):>10.3f}")
    ratio = statistics.median(storefront[0]) / statistics.median(storefront[1])
    print(f"\ntarget for myOrders: median ratio ≤ {TARGET}: {'met' if ratio <= TARGET else 'NOT met'} ({ratio:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description="myOrders(first: 50) with privacy enforcement on and off.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    run_on_database(run, args.database_url, args.orders, args.lines, args.iterations)


if __name__ == "__main__":
    main()
