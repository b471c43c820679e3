"""Retention sweep (P11, P13): 1,000,000 expired orders, each with a line, on PostgreSQL.

The orders belong to erased customers (no customer link left) and were placed in a fiscal year that
ended more than seven years ago, so the Bookkeeping Act no longer keeps them: the sweep deletes them
(their lines go with them, by the foreign key) in batches of 5,000, each its own transaction. Another
10,000 orders inside the period, and 10,000 with an IP address past 90 days, check that only what is
due goes. Seeded with set-based SQL (generate_series), then `RetentionSweep.run()` is timed, as
`shop-privacy retention run` calls it. A second run is timed too: it must find nothing.
Target: under 60 s.

    python bench/retention_1m.py --database-url postgresql://postgres@127.0.0.1:5432/bench_shop_privacy [--orders N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

from order_history import bench_settings  # type: ignore[import-not-found]
from sqlalchemy import text

from shop_privacy.services import build_services
from shop_privacy.storage.migrate import upgrade

TARGET_SECONDS = 60.0

SEED = """
INSERT INTO orders (id, customer_id, order_number, idempotency_key, status, payment_method, payment_reference,
  currency, subtotal_net_minor, vat_minor, total_minor, placed_at, updated_at, ip_address)
SELECT gen_random_uuid(), NULL, '{prefix}-' || i, 'k-' || i, 'FULFILLED', 'CARD_STRIPE', 'pi_' || i, 'SEK',
  4900, 1225, 6125, {placed}, {placed}, {ip}
FROM generate_series(1, {count}) AS i;
"""
LINES = """
INSERT INTO order_lines (id, order_id, position, sku, product_name, kind, billing_period, quantity,
  unit_price_net_minor, vat_rate_basis_points, line_net_minor, line_vat_minor, line_total_minor)
SELECT gen_random_uuid(), id, 0, 'HOSTING-START', 'Web hosting Start', 'HOSTING', 'MONTHLY', 1, 4900, 2500,
  4900, 1225, 6125 FROM orders;
"""


async def run(database_url: str, orders: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        upgrade(database_url)
        services = build_services(bench_settings(database_url, tmp))
        started = time.perf_counter()
        async with services.db.transaction() as session:
            for statement in (
                SEED.format(prefix="OLD", placed="now() - interval '9 years' + i * interval '1 second'",
                            ip="'203.0.113.9'", count=orders),
                SEED.format(prefix="KEPT", placed="now() - interval '2 years'", ip="NULL", count=10_000),
                SEED.format(prefix="IP", placed="now() - interval '100 days'", ip="'203.0.113.10'", count=10_000),
                LINES,
            ):
                await session.exec(text(statement))  # type: ignore[call-overload]
        async with services.db.engine.connect() as connection:
            await connection.execute(text("ANALYZE orders"))
            await connection.execute(text("ANALYZE order_lines"))
            await connection.commit()
        print(f"seeded {orders:,} expired orders (+ 20,000 others), one line each, in "
              f"{time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        first = await services.retention.run()
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = await services.retention.run()
        again = time.perf_counter() - started
        async with services.db.reader() as session:
            left = (await session.exec(text("SELECT count(*) FROM orders"))).one()[0]  # type: ignore[call-overload]
            lines = (await session.exec(text("SELECT count(*) FROM order_lines"))).one()[0]  # type: ignore[call-overload]
        await services.close()
    changed = {k: v for k, v in first.steps.items() if v}
    print(f"first run: {seconds:.1f} s, changed {changed}")
    print(f"second run: {again:.2f} s, changed {sum(second.steps.values())} rows")
    print(f"left: {left:,} orders, {lines:,} lines (expected 20,000 and 20,000)")
    print(f"rate: {orders / seconds:,.0f} expired orders/s; target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if seconds < TARGET_SECONDS else 'NOT met'}")
    assert first.steps["accounting_minimum"] == orders and first.steps["order_ip_addresses"] == 10_000
    assert left == 20_000 and lines == 20_000 and sum(second.steps.values()) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Retention sweep over a million expired orders (PostgreSQL).")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("give --database-url postgresql://… (an empty database of its own)")
    asyncio.run(run(args.database_url, args.orders))


if __name__ == "__main__":
    main()
