"""P11 through the operator's command: `shop-privacy retention run` (the daily cron) removes what has no
legal basis left and keeps what still has one; `--dry-run` only counts."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import update

from shop_privacy import cli
from shop_privacy.services import Services
from shop_privacy.storage.tables import Cart, Order
from shop_privacy.storage.types import utc_now

from .helpers import create_customer, seed_orders

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P11")]


async def _command(*arguments: str) -> int:
    """The command as an operator runs it: its own event loop, so in a thread beside the test's."""
    return await anyio.to_thread.run_sync(cli.main, ["retention", "run", "--json", *arguments])


async def test_p11_the_retention_command_removes_what_has_no_basis_left_and_a_dry_run_only_counts(
    services: Services, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    now = utc_now()
    customer = await create_customer(services, f"ret-{uuid.uuid4().hex[:10]}@exempel.se")
    gone, kept = await seed_orders(services, customer, 2, lines=1)
    old_cart, new_cart = Cart(token_hash=uuid.uuid4().hex * 2, updated_at=now - timedelta(days=400)), \
        Cart(token_hash=uuid.uuid4().hex * 2, updated_at=now - timedelta(days=1))
    async with services.db.transaction() as session:
        # Both orders' customers are gone; one is past the Bookkeeping Act's seven years, one inside them.
        await session.exec(update(Order).where(Order.id == gone)  # type: ignore[call-overload]
                           .values(customer_id=None, placed_at=now - timedelta(days=9 * 366)))
        await session.exec(update(Order).where(Order.id == kept)  # type: ignore[call-overload]
                           .values(customer_id=None, placed_at=now - timedelta(days=5 * 365)))
        session.add_all([old_cart, new_cart])

    assert await _command("--dry-run") == 0
    counted = json.loads(capsys.readouterr().out)
    assert counted["dryRun"] is True
    assert counted["steps"]["accounting_minimum"] == 1 and counted["steps"]["anonymous_carts"] == 1
    async with services.db.reader() as session:
        assert await session.get(Order, gone) is not None and await session.get(Cart, old_cart.id) is not None

    assert await _command() == 0
    done = json.loads(capsys.readouterr().out)
    assert done["steps"]["accounting_minimum"] == 1 and done["steps"]["anonymous_carts"] == 1
    async with services.db.reader() as session:
        assert await session.get(Order, gone) is None and await session.get(Cart, old_cart.id) is None
        assert await session.get(Order, kept) is not None and await session.get(Cart, new_cart.id) is not None

    assert await _command() == 0
    again = json.loads(capsys.readouterr().out)
    assert again["steps"]["accounting_minimum"] == 0 and again["steps"]["anonymous_carts"] == 0
