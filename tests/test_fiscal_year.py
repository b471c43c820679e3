"""The fiscal year is a setting (P11, P13): a shop with a broken fiscal year (July to June) keeps the
accounting minimum seven years after the end of *its* fiscal year, in the sweep, the erasure report's
"until" and the export's erasure dates alike."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from shop_privacy.privacy.retention import CALENDAR_YEAR, RETENTION_RULES, FiscalYear, erase_on
from shop_privacy.services import build_services
from shop_privacy.storage.tables import Order

from .conftest import make_settings
from .helpers import create_customer, seed_orders

pytestmark = pytest.mark.anyio

JULY = FiscalYear(7)
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.mark.policy("P11")
def test_p11_a_fiscal_year_starts_and_ends_where_its_start_month_says() -> None:
    assert CALENDAR_YEAR.start_of(date(2019, 3, 1)) == date(2019, 1, 1)
    assert CALENDAR_YEAR.end_of(date(2019, 3, 1)) == date(2019, 12, 31)
    assert JULY.start_of(date(2019, 3, 1)) == date(2018, 7, 1)
    assert JULY.end_of(date(2019, 3, 1)) == date(2019, 6, 30)
    assert JULY.end_of(date(2019, 7, 1)) == date(2020, 6, 30)
    # A fiscal year from March ends on 29 February in a leap year; seven years on is 28 February.
    march = FiscalYear(3)
    assert march.end_of(date(2024, 1, 15)) == date(2024, 2, 29)
    assert march.end_of(date(2024, 1, 15), years_after=7) == date(2031, 2, 28)
    # The calendar year gives what the package always did: 1 January, seven years back.
    assert CALENDAR_YEAR.kept_until_cutoff(NOW, 7) == datetime(2019, 1, 1, tzinfo=UTC)
    assert JULY.kept_until_cutoff(NOW, 7) == datetime(2019, 7, 1, tzinfo=UTC)


@pytest.mark.policy("P13")
def test_p13_the_erasure_date_of_bookkeeping_data_follows_the_fiscal_year() -> None:
    rule = RETENTION_RULES["bookkeeping"]
    placed = {"placed_at": datetime(2019, 3, 1, tzinfo=UTC)}
    assert erase_on(rule, placed) == date(2026, 12, 31)
    assert erase_on(rule, placed, JULY) == date(2026, 6, 30)


@pytest.mark.policy("P11")
@pytest.mark.policy("P13")
async def test_p11_p13_the_sweep_counts_seven_years_from_the_end_of_the_shops_fiscal_year(
    database_url: str, tmp_path: Path, catalogue: dict
) -> None:
    services = build_services(make_settings(database_url, tmp_path, fiscal_year_start_month=7))
    try:
        customer = await create_customer(services, f"fiscal-{uuid.uuid4().hex[:8]}@exempel.se")
        march, august = await seed_orders(services, customer, 2, lines=1)
        async with services.db.transaction() as session:
            # An erased customer's orders: only the accounting minimum is left, without a customer.
            for order_id, placed in ((march, datetime(2019, 3, 1, tzinfo=UTC)),
                                     (august, datetime(2019, 8, 1, tzinfo=UTC))):
                await session.exec(update(Order).where(Order.id == order_id).values(  # type: ignore[call-overload]
                    customer_id=None, placed_at=placed))
        result = await services.retention.run(now=NOW)
        async with services.db.read() as session:
            left = set((await session.exec(select(Order.id).where(Order.id.in_([march, august])))).all())  # type: ignore[attr-defined]
    finally:
        await services.close()
    # March 2019 is in the fiscal year that ended on 30 June 2019: kept until 30 June 2026, so gone now
    # (with the calendar year it would be kept until 31 December 2026). August 2019: until 30 June 2027.
    assert left == {august}
    assert result.steps["accounting_minimum"] >= 1
