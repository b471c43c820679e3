"""The fast read path (issue 12): every target measured in one run, each beside the peer it is compared with.

On one customer with 200 orders of 5 lines (the data of order_history.py), in one process:

* order page, `myOrders(first: 50)` with lines, four ways, requests interleaved round-robin (the side
  that goes first rotates) so the machine's noise lands on all of them alike:
  - raw SQL + JSON: two queries with the sync driver on one open connection, the rows built into the
    response's shape and encoded with orjson (the floor);
  - plain strawberry with a DataLoader and no privacy layer (`plain_strawberry.py`), over ASGI;
  - the shop (`create_app`, privacy on), over ASGI, without trusted documents: the general executor;
  - the shop with the query registered and sent as a trusted document (`documentId`): its compiled plan
    (docs/performance.md), checked to answer exactly as the general executor does;
* staff order read, `orders(filter: {customerId}, first: 50)` with lines under BOOKKEEPING, with
  enforcement and the access log, and the same schema with enforcement off (privacy_enforcement.py);
* the tail: one client over real HTTP (one uvicorn process, `bench/load.py`'s server) sending `me`,
  `products(first: 50)` and `myOrders(first: 20)` in turn; p50 and p99 of each.

Each measurement is repeated (`--repetitions`): the ratios of each repetition are printed, then their
median. Targets: shop / plain strawberry ≤ 1.0; staff enforced / not enforced ≤ 1.15; p99 ≤ 2 × p50;
trusted document / raw SQL ≤ 8.

    python bench/read_path.py [--database-url URL] [--iterations 200] [--repetitions 3] [--tail-requests 300]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import orjson
from load import Q_ME, Q_MY_ORDERS, Q_PRODUCTS, SERVER_START_SECONDS, Server, server_env  # type: ignore[import-not-found]
from order_history import (  # type: ignore[import-not-found]
    PAGE,
    QUERY,
    WARMUP,
    Dicts,
    bench_settings,
    plain_sql,
    run_on_database,
    seed,
)
from plain_strawberry import plain_strawberry_app  # type: ignore[import-not-found]
from privacy_enforcement import STAFF_QUERY, staff_token, unenforced_app  # type: ignore[import-not-found]
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import build_services
from shop_privacy.storage.migrate import upgrade
from shop_privacy.storage.urls import DatabaseURL

Call = Callable[[], Awaitable[object]]
TARGETS = {"shop / plain strawberry": 1.0, "trusted document / plain strawberry": 1.0,
           "staff enforced / not enforced": 1.15, "trusted document / raw SQL": 8.0}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def response_shape(orders: Dicts) -> dict[str, Any]:
    """The plain SQL rows in the GraphQL response's shape, as raw code would write them."""
    def money(minor: int, currency: str) -> dict[str, Any]:
        return {"minorUnits": minor, "currency": currency}
    return {"data": {"myOrders": {"edges": [{"node": {
        "id": str(order["id"]), "number": order["number"], "placedAt": order["placed_at"].isoformat(),
        "status": order["status"], "paymentMethod": order["payment_method"],
        "total": {"net": money(order["total"]["net"], order["currency"]),
                  "vat": money(order["total"]["vat"], order["currency"]),
                  "gross": money(order["total"]["gross"], order["currency"])},
        "lines": [{"sku": line["sku"], "productName": line["product_name"], "quantity": line["quantity"],
                   "unitPrice": {"net": {"minorUnits": line["unit_price_net"]}},
                   "total": {"gross": {"minorUnits": line["total_gross"]}}} for line in order["lines"]],
    }} for order in orders]}}}


def poster(app: Starlette, path: str, body: dict[str, Any], headers: dict[str, str]) -> Callable[[], Awaitable[Any]]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers)

    async def post() -> Any:
        response = await http.post(path, json=body)
        answer = response.json()
        if response.status_code != 200 or answer.get("errors"):
            sys.exit(f"{path} failed: {response.status_code} {answer.get('errors')}")
        return answer["data"]

    return post


async def interleaved(sides: dict[str, Call], iterations: int) -> dict[str, list[float]]:
    """Milliseconds per call of each side, after the warm-up; one call of each per round, rotating."""
    names = list(sides)
    for _ in range(WARMUP):
        for name in names:
            await sides[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(iterations):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            await sides[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def comparable(nodes: list[dict[str, Any]]) -> list[Any]:
    """What every side must agree on (ids differ: the shop's are opaque)."""
    return [(n["number"], n["placedAt"][:19], n["total"]["gross"]["minorUnits"],
             [(li["sku"], li["quantity"], li["unitPrice"]["net"]["minorUnits"], li["total"]["gross"]["minorUnits"])
              for li in n["lines"]]) for n in nodes]


def nodes_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in data["myOrders"]["edges"]]


def trusted_documents_file(directory: str) -> tuple[Path, str]:
    """The storefront build's manifest with the order-page query; returns (file, its document id)."""
    digest = hashlib.sha256(QUERY.encode()).hexdigest()
    path = Path(directory) / "trusted-documents.json"
    path.write_text(json.dumps({digest: QUERY}))
    return path, f"sha256:{digest}"


async def order_page(services: Any, shop: Starlette, url: DatabaseURL, customer_id: Any, token: str,
                     document_id: str, iterations: int) -> dict[str, list[float]]:
    customer = {"Authorization": f"Bearer {token}"}
    variables = {"first": PAGE}
    # The same services without trusted documents: every request runs through the general executor.
    general = create_app(services.settings.model_copy(update={"trusted_documents_file": None}), services=services)
    shop_text = poster(general, "/graphql", {"query": QUERY, "variables": variables}, customer)
    shop_trusted = poster(shop, "/graphql", {"documentId": document_id, "variables": variables}, customer)
    plain = poster(plain_strawberry_app(services), "/graphql", {"query": QUERY, "variables": variables}, customer)
    with plain_sql(url, customer_id) as read_sql:
        expected = comparable(nodes_of(response_shape(read_sql())["data"]))
        for name, side in (("shop", shop_text), ("trusted", shop_trusted), ("plain strawberry", plain)):
            if comparable(nodes_of(await side())) != expected:
                sys.exit(f"{name} and raw SQL read different orders: the comparison would be meaningless")
        if await shop_text() != await shop_trusted():
            sys.exit("the compiled plan and the general executor answered differently")

        async def raw() -> bytes:
            return orjson.dumps(response_shape(read_sql()))

        return await interleaved({"raw SQL + JSON": raw, "plain strawberry": plain, "shop": shop_text,
                                  "shop, trusted document": shop_trusted}, iterations)


async def staff_read(services: Any, shop: Starlette, customer_id: Any, token: str,
                     iterations: int) -> dict[str, list[float]]:
    staff = {"Authorization": f"Bearer {token}"}
    body = {"query": STAFF_QUERY, "variables": {"customer": encode_id("Customer", customer_id)}}
    return await interleaved({"enforced + access log": poster(shop, "/admin/graphql", body, staff),
                              "not enforced": poster(unenforced_app(services), "/admin/graphql", body, staff)},
                             iterations)


async def tail(database_url: str, directory: str, token: str, document_file: Path,
               requests: int) -> dict[str, list[float]]:
    """One uvicorn process, one keep-alive client: me, products, myOrders in turn."""
    env = server_env(database_url, Path(directory), 0)
    env.pop("SHOP_PRIVACY_SESSION_TOUCH_INTERVAL_SECONDS")  # the default: reads stay reads
    env["SHOP_PRIVACY_TRUSTED_DOCUMENTS_FILE"] = str(document_file)
    server = Server(0, env, Path(directory) / "server.log", graceful_seconds=5)
    try:
        base = server.wait_started(SERVER_START_SECONDS)
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                     timeout=30) as http:
            async def call(query: str, variables: dict[str, Any] | None = None) -> Call:
                async def post() -> None:
                    response = await http.post("/graphql", json={"query": query, "variables": variables})
                    if response.status_code != 200 or response.json().get("errors"):
                        sys.exit(f"tail request failed: {response.status_code} {response.text[:300]}")
                return post

            return await interleaved({"me": await call(Q_ME), "products": await call(Q_PRODUCTS, {"first": 50}),
                                      "myOrders(first: 20)": await call(Q_MY_ORDERS)}, requests)
    finally:
        server.stop(10)


def ratio(samples: dict[str, list[float]], numerator: str, denominator: str) -> float:
    return statistics.median(samples[numerator]) / statistics.median(samples[denominator])


async def run(database_url: str, iterations: int, repetitions: int, tail_requests: int) -> None:
    url = DatabaseURL.parse(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-read-path-") as tmp:
        document_file, document_id = trusted_documents_file(tmp)
        settings = bench_settings(database_url, tmp).model_copy(update={"trusted_documents_file": document_file})
        upgrade(url)
        services = build_services(settings)
        shop = create_app(settings, services=services)
        pages: list[dict[str, list[float]]] = []
        staff: list[dict[str, list[float]]] = []
        async with shop.router.lifespan_context(shop):
            customer_id, token = await seed(services, 200, 5)
            accounting = await staff_token(services)
            for _ in range(repetitions):
                pages.append(await order_page(services, shop, url, customer_id, token, document_id, iterations))
                staff.append(await staff_read(services, shop, customer_id, accounting, max(iterations // 2, 20)))
        await services.close()
        tails = [await tail(database_url, tmp, token, document_file, tail_requests) for _ in range(repetitions)]
    report(url, iterations, pages, staff, tails)


def report(url: DatabaseURL, iterations: int, pages: list[dict[str, list[float]]],
           staff: list[dict[str, list[float]]], tails: list[dict[str, list[float]]]) -> None:
    print(f"database: {url.url.get_backend_name()}; 1 customer, 200 orders x 5 lines; page 50 orders, 250 lines; "
          f"{iterations} interleaved requests per side after {WARMUP} warm-up; {len(pages)} repetitions")
    for title, runs in (("order page, myOrders(first: 50) with lines", pages),
                        ("staff orders(first: 50) with lines, BOOKKEEPING", staff),
                        ("tail: one client over HTTP (uvicorn)", tails)):
        print(f"\n{title}")
        print(f"  {'':<28}" + "".join(f"{f'run {i + 1} p50/p99 ms':>24}" for i in range(len(runs))))
        for name in runs[0]:
            print(f"  {name:<28}" + "".join(
                f"{percentile(run_[name], 0.5):>14.2f} / {percentile(run_[name], 0.99):>7.2f}" for run_ in runs))
    figures = {
        "shop / plain strawberry": [ratio(p, "shop", "plain strawberry") for p in pages],
        "shop / raw SQL": [ratio(p, "shop", "raw SQL + JSON") for p in pages],
        "trusted document / plain strawberry": [ratio(p, "shop, trusted document", "plain strawberry")
                                                for p in pages],
        "trusted document / raw SQL": [ratio(p, "shop, trusted document", "raw SQL + JSON") for p in pages],
        "plain strawberry / raw SQL": [ratio(p, "plain strawberry", "raw SQL + JSON") for p in pages],
        "staff enforced / not enforced": [ratio(s, "enforced + access log", "not enforced") for s in staff],
    }
    for name in tails[0]:
        figures[f"{name} p99 / p50"] = [percentile(t[name], 0.99) / percentile(t[name], 0.5) for t in tails]
    print(f"\n{'ratio (of medians)':<42}" + "".join(f"{f'run {i + 1}':>9}" for i in range(len(pages)))
          + f"{'median':>9}  target")
    for name, values in figures.items():
        target = TARGETS.get(name, 2.0 if name.endswith("p99 / p50") else None)
        verdict = "" if target is None else f"≤ {target}: {'met' if statistics.median(values) <= target else 'NOT met'}"
        print(f"{name:<42}" + "".join(f"{value:>9.2f}" for value in values)
              + f"{statistics.median(values):>9.2f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Issue 12's targets, each measured beside its peer in one run.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="sqlite:///… or postgresql://… (default: $DATABASE_URL, else a temporary SQLite file)")
    parser.add_argument("--iterations", type=int, default=200, help="interleaved requests per side (default 200)")
    parser.add_argument("--repetitions", type=int, default=3, help="repetitions of each measurement (default 3)")
    parser.add_argument("--tail-requests", type=int, default=300,
                        help="requests per operation at one client over HTTP (default 300)")
    args = parser.parse_args()
    if min(args.iterations, args.repetitions, args.tail_requests) < 1:
        parser.error("--iterations, --repetitions and --tail-requests must be at least 1")
    with suppress(KeyboardInterrupt):
        run_on_database(run, args.database_url, args.iterations, args.repetitions, args.tail_requests)


if __name__ == "__main__":
    main()
