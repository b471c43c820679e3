"""Staff reads at once (P14): every read is logged exactly once and the access log stays one unbroken chain,
in one process and in two. On PostgreSQL an append takes no lock and no transaction
(`HashChain.append_alone`): one that another append overtook between reading the end and writing goes in
after it."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.audit.access_log import AccessLog, AccessRead, entry_of
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.database import Database
from shop_privacy.storage.faults import Contention, classify
from shop_privacy.storage.tables import AccessLogEntry

from ..helpers import STAFF_LOGIN, STAFF_PASSWORD, StorefrontClient, create_customer, random_email, staff_client
from .support import RACE_SECONDS, app_servers, at_once, before_each_statement

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]

READ_CUSTOMER = """query($id: ID!) @purpose(use: CUSTOMER_SERVICE) { customer(id: $id) { email phone } }"""


async def _entries(services: Services) -> list[AccessLogEntry]:
    async with services.db.read() as session:
        return list((await session.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.sequence)))).all())


async def _assert_one_row_per_read(services: Services, request_ids: list[str]) -> None:
    entries = await _entries(services)
    assert [entry.sequence for entry in entries] == list(range(1, len(request_ids) + 1))
    assert sorted(entry.request_id for entry in entries) == sorted(request_ids)
    verification = await services.access_log.verify()
    assert verification.ok, verification.problems


async def test_p14_thirty_staff_reads_at_once_are_each_logged_once_in_one_unbroken_chain(
    app: Starlette, services: Services
) -> None:
    subject = encode_id("Customer", await create_customer(services, random_email(), phone="+46701234567"))
    clients = [await staff_client(app, services, "support") for _ in range(3)]
    answers = await at_once(clients[i % 3].gql(READ_CUSTOMER, {"id": subject}) for i in range(30))
    for answer in answers:
        answer.ok()
    await _assert_one_row_per_read(services, [answer.headers["x-request-id"] for answer in answers])
    for client in clients:
        await client.http.aclose()


async def test_p14_staff_reads_through_two_app_processes_keep_one_unbroken_chain(
    database_url: str, tmp_path: Path, services: Services
) -> None:
    subject = encode_id("Customer", await create_customer(services, random_email(), phone="+46701234567"))
    email = random_email("support")
    await services.staff.create({"email": email, "display_name": "Support", "role": "support",
                                 "password": STAFF_PASSWORD})
    with app_servers(database_url, tmp_path) as servers:
        clients = [StorefrontClient(httpx.AsyncClient(base_url=server.url, timeout=RACE_SECONDS), path="/admin/graphql")
                   for server in servers]
        for client in clients:
            (await client.gql(STAFF_LOGIN, {"input": {"email": email, "password": STAFF_PASSWORD}})).ok()
        answers = await at_once(clients[i % 2].gql(READ_CUSTOMER, {"id": subject}) for i in range(30))
        for answer in answers:
            answer.ok()
        for client in clients:
            await client.http.aclose()
    await _assert_one_row_per_read(services, [answer.headers["x-request-id"] for answer in answers])


def _read(request_id: str) -> AccessRead:
    return AccessRead(uuid.uuid4(), uuid.uuid4(), "customer_service", frozenset({"user.contact.email"}),
                      frozenset({"customers.email"}), request_id)


@contextmanager
def overtaken_at_each_insert(services: Services, times: int) -> Iterator[list[str]]:
    """Before each of the app's next `times` INSERTs into the access log, another process's append (its own
    engine, run to its commit in a thread) goes in first. Yields the request ids it appended."""
    appended: list[str] = []

    def other_append() -> None:
        async def append() -> None:
            other = Database(services.db.url)
            try:
                request_id = f"the-other-{len(appended) + 1}"
                await AccessLog(other, services.settings.secret, 10).append([_read(request_id)])
                appended.append(request_id)
            finally:
                await other.dispose()
        asyncio.run(append())

    def overtake(statement: str) -> None:
        if statement.startswith("INSERT INTO access_log") and len(appended) < times:
            worker = threading.Thread(target=other_append)
            worker.start()
            worker.join(RACE_SECONDS)

    with before_each_statement(services, overtake):
        yield appended


def _postgres_only(services: Services) -> None:
    if services.db.url.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no append can come between another's two statements")


async def test_p14_an_append_overtaken_between_reading_the_end_and_writing_goes_in_after_the_other(
    services: Services
) -> None:
    _postgres_only(services)
    with overtaken_at_each_insert(services, 1) as others:
        await services.access_log.append([_read("overtaken")])
    assert others == ["the-other-1"]
    entries = await _entries(services)
    assert [(entry.sequence, entry.request_id) for entry in entries] == [(1, "the-other-1"), (2, "overtaken")]
    verification = await services.access_log.verify()
    assert verification.ok, verification.problems


async def test_p14_p15_an_append_overtaken_at_every_attempt_is_a_busy_database_and_writes_nothing(
    services: Services
) -> None:
    _postgres_only(services)
    chain = services.access_log.chain
    with overtaken_at_each_insert(services, 3) as others, pytest.raises(Contention) as raised:
        await chain.append_alone([entry_of(_read("always-overtaken"), datetime.now(UTC))], attempts=3)
    fault = classify(raised.value)
    assert fault is not None and fault.reason == "database_busy"
    assert [entry.request_id for entry in await _entries(services)] == others == [
        "the-other-1", "the-other-2", "the-other-3"]
    verification = await services.access_log.verify()
    assert verification.ok, verification.problems
