"""Many requests at once whose sessions are due for their last-seen write (P15: sessions held
server-side stay usable under load): none may wait for a second pooled connection while it holds one."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.schema.core.ids import decode_id
from shop_privacy.services import Services
from shop_privacy.storage.database import NestedConnection
from shop_privacy.storage.tables import AuthSession, Cart, CartLine
from shop_privacy.storage.types import utc_now

from ..conftest import client_for
from ..helpers import ADD_TO_CART, ME, product_ids
from .support import app_servers, at_once, codes_of, make_sessions_due, shoppers

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P15")]


async def test_p15_64_concurrent_requests_with_due_sessions_are_all_answered_within_seconds(
    app: Starlette, services: Services, password_hash: str
) -> None:
    made = await shoppers(services, 16, password_hash=password_hash, sessions_each=4, complete=False)
    sessions = [shopper for group in made for shopper in group]
    await make_sessions_due(services, {s.customer_id for s in sessions})
    client = client_for(app)
    started = time.monotonic()
    responses = await at_once(client.gql(ME, headers=s.headers) for s in sessions)
    elapsed = time.monotonic() - started
    assert codes_of(responses) == []
    assert [r.data["me"]["id"] is not None for r in responses] == [True] * 64
    # Each answer is its own customer's.
    assert [decode_id("Customer", r.data["me"]["id"]) for r in responses] == [s.customer_id for s in sessions]
    assert elapsed < 10, f"64 requests took {elapsed:.1f} s"
    # And every due session was noted as seen.
    async with services.db.read() as session:
        rows = (await session.exec(select(AuthSession))).all()
    assert len(rows) == 64 and all(utc_now() - row.last_seen_at < timedelta(seconds=30) for row in rows)
    await client.http.aclose()


async def test_p15_a_database_block_opened_inside_another_fails_at_once(services: Services) -> None:
    """The guard that keeps the pool from deadlocking: a nested block is a bug, found in the tests."""
    async with services.db.read():
        with pytest.raises(NestedConnection):
            async with services.db.transaction():
                pass
    async with services.db.transaction():
        with pytest.raises(NestedConnection):
            async with services.db.read():
                pass
    # Blocks one after the other are fine.
    async with services.db.read():
        pass
    async with services.db.transaction():
        pass


async def test_p15_50_clients_writing_through_two_app_processes_all_succeed(
    database_url: str, tmp_path: Path, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    """On SQLite two processes share one write lock (the busy timeout queues them); no request may
    fail with "database is locked". The sessions are due, so even the reads write."""
    made = await shoppers(services, 25, password_hash=password_hash, sessions_each=2)
    sessions = [shopper for group in made for shopper in group]
    await make_sessions_due(services, {s.customer_id for s in sessions})
    with app_servers(database_url, tmp_path) as servers:
        clients = [server.client() for server in servers]
        product = (await product_ids(clients[0]))["SSL-DV"]
        add = {"input": {"productId": product, "quantity": 1}}
        calls = []
        for index, shopper in enumerate(sessions):
            client = clients[index % 2]
            calls += [client.gql(ADD_TO_CART, add, headers=shopper.headers), client.gql(ME, headers=shopper.headers)]
        responses = await at_once(calls)
        assert codes_of(responses) == [] and all(r.status == 200 for r in responses)
        for client in clients:
            await client.http.aclose()
    async with services.db.read() as session:
        quantities = (await session.exec(select(Cart.customer_id, func.sum(CartLine.quantity))
                                         .join(CartLine, col(CartLine.cart_id) == col(Cart.id))
                                         .group_by(col(Cart.customer_id)))).all()
    assert sorted(quantity for _, quantity in quantities) == [2] * 25
