"""Shared by the concurrency tests: customers with bearer sessions made straight in the database,
requests fired at once, and app servers in their own processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import event, update
from sqlmodel import col

from shop_privacy.services import Services
from shop_privacy.storage.tables import AuthSession, Customer
from shop_privacy.storage.types import utc_now

from ..conftest import TEST_SECRET
from ..helpers import COMPLETE_PROFILE, GraphQLResponse, StorefrontClient, random_email
from ..servers import free_port, wait_until_serving

T = TypeVar("T")

# Any one request of a race answers within this (the pool's own timeout is 30 s).
RACE_SECONDS = 20


async def at_once(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Runs the calls concurrently, bounded in time: a hang fails the test instead of stalling it."""
    async with asyncio.timeout(RACE_SECONDS):
        return list(await asyncio.gather(*calls))


@dataclass(frozen=True)
class Shopper:
    customer_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def shoppers(services: Services, count: int, *, password_hash: str, complete: bool = True,
                   sessions_each: int = 1, **profile: Any) -> list[list[Shopper]]:
    """`count` customers, each with `sessions_each` live bearer sessions, written in one transaction."""
    values: dict[str, Any] = {"first_name": "Anna", "last_name": "Svensson", **profile}
    if complete:
        address = COMPLETE_PROFILE["address"]
        values.update(phone="+46701234567", company_name="Exempel AB", address_street=address["street"],
                      address_postal_code=address["postalCode"], address_city=address["city"])
    made: list[list[Shopper]] = []
    async with services.db.transaction() as session:
        for _ in range(count):
            customer = Customer(email=random_email("race"), password_hash=password_hash,
                                **values)
            session.add(customer)
            await session.flush()
            logins = [await services.authentication.start_session(session, customer, client_ip=None, cart_token=None)
                      for _ in range(sessions_each)]
            made.append([Shopper(customer.id, logged_in.token) for logged_in in logins])
    return made


async def make_sessions_due(services: Services, customer_ids: Iterable[uuid.UUID]) -> None:
    """Every session of these customers was last seen long enough ago that the next request writes it."""
    stale = utc_now() - timedelta(seconds=services.settings.session_touch_interval_seconds + 60)
    async with services.db.transaction() as session:
        await session.exec(update(AuthSession).where(col(AuthSession.customer_id).in_(list(customer_ids)))
                           .values(last_seen_at=stale))  # type: ignore[call-overload]


def codes_of(responses: Iterable[GraphQLResponse]) -> list[str]:
    return [code for response in responses for code in response.codes]


# App servers in their own processes


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    def client(self) -> StorefrontClient:
        return StorefrontClient(httpx.AsyncClient(base_url=self.url, timeout=RACE_SECONDS))


def _start(database_url: str, tmp_path: Path, index: int, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SHOP_PRIVACY_SECRET_KEY": TEST_SECRET,
        "SHOP_PRIVACY_PASSWORD_TIME_COST": "2",
        "SHOP_PRIVACY_PASSWORD_MEMORY_KIB": "19456",
        "SHOP_PRIVACY_PASSWORD_PARALLELISM": "1",
        "SHOP_PRIVACY_MAIL_OUTBOX_DIR": str(tmp_path / f"outbox-{index}"),
        "SHOP_PRIVACY_RECIPIENT_OUTBOX_DIR": str(tmp_path / f"recipients-{index}"),
        **extra_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_privacy.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--no-migrate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    try:
        wait_until_serving(process.stderr)
    except RuntimeError:
        process.wait(timeout=10)
        raise
    # Keep reading its log so a full pipe never blocks the server.
    threading_drain(process)
    return Server(process, f"http://127.0.0.1:{port}")


def threading_drain(process: subprocess.Popen[str]) -> None:
    import threading

    def drain() -> None:
        assert process.stderr is not None
        for _ in process.stderr:
            pass

    threading.Thread(target=drain, daemon=True).start()


@contextmanager
def app_servers(database_url: str, tmp_path: Path, count: int = 2,
                extra_env: dict[str, str] | None = None) -> Iterator[list[Server]]:
    """`count` app processes serving one database."""
    servers: list[Server] = []
    try:
        for index in range(count):
            servers.append(_start(database_url, tmp_path, index, extra_env or {}))
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()


@contextmanager
def before_each_statement(services: Services, hook: Callable[[str], None]) -> Iterator[None]:
    """`hook(statement)` runs before every SQL statement the app's engine sends (to fail it, or to let
    another connection act at that exact point), for the duration of the block."""

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        hook(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
