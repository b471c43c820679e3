"""Infrastructure faults are told apart and recovered from (P15: the service stays safe and honest under
failure). The database gone, locked, full, read-only or behind the migrations: clients get
SERVICE_UNAVAILABLE with a stable reason (HTTP 503 and Retry-After when nothing could be done), never
INTERNAL_SERVER_ERROR; the log names the fault in one line without personal data; /health stays up,
/ready says why the instance is not ready; and once the database is back, requests succeed again
without a restart. Real databases throughout: SQLite files, and PostgreSQL behind a TCP proxy."""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.catalogue.demo import seed_catalogue
from shop_privacy.plugins import Plugin
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services, build_services
from shop_privacy.storage.database import Database
from shop_privacy.storage.migrate import downgrade, upgrade
from shop_privacy.storage.readiness import Readiness, check_readiness
from shop_privacy.storage.urls import DatabaseURL

from ..conftest import client_for, make_settings
from ..helpers import (
    ADD_TO_CART,
    ME,
    PASSWORD,
    PRODUCTS,
    REGISTER,
    GraphQLResponse,
    StorefrontClient,
    create_customer,
    staff_client,
)
from .support import at_once, shoppers
from .tcp_proxy import TcpProxy

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P15")]

# Each wait for the app is bounded: a hang fails the test within seconds.
STEP_SECONDS = 10


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@dataclass
class Running:
    app: Starlette
    services: Services
    client: StorefrontClient
    product_id: str = ""
    shopper_headers: dict[str, str] = field(default_factory=dict)

    async def ready(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        response = await self.client.http.get("/ready")
        return response.status_code, response.json(), dict(response.headers)

    async def health(self) -> int:
        return (await self.client.http.get("/health")).status_code

    async def add_to_cart(self) -> GraphQLResponse:
        return await self.client.gql(ADD_TO_CART, {"input": {"productId": self.product_id}})

    async def me(self) -> GraphQLResponse:
        return await self.client.gql(ME, headers=self.shopper_headers)

    def requests(self) -> list[Coroutine[Any, Any, GraphQLResponse]]:
        """A read, a write and a logged-in read, as a storefront sends them."""
        return [self.client.gql(PRODUCTS), self.add_to_cart(), self.me()]

    async def product(self, sku: str) -> str:
        data = (await self.client.gql(PRODUCTS)).ok()
        return str(next(e["node"]["id"] for e in data["products"]["edges"] if e["node"]["sku"] == sku))

    async def prepare(self) -> None:
        """A product to buy and a logged-in shopper; and the app works."""
        self.product_id = await self.product("SSL-DV")
        made = await shoppers(self.services, 1, password_hash=await self.services.hasher.hash(PASSWORD),
                              complete=False)
        self.shopper_headers = made[0][0].headers
        await self.works()

    async def works(self) -> None:
        (await self.add_to_cart()).ok()
        assert (await self.me()).ok()["me"]["id"]
        status, body, _ = await self.ready()
        assert (status, body) == (200, {"status": "ready"})


@asynccontextmanager
async def running(database_url: str, tmp_path: Path, *, on_connect: Callable[[Any], None] | None = None,
                  plugins: Sequence[Plugin] = ()) -> AsyncIterator[Running]:
    """The app on `database_url` (with `plugins`), started by its lifespan; `on_connect` runs on each new
    pooled connection after the app's own set-up (as a read-only replica or a short lock timeout would)."""
    settings = make_settings(database_url, tmp_path)
    db = Database(settings.database_url)
    if on_connect is not None:
        event.listen(db.engine.sync_engine, "connect", lambda connection, _record: on_connect(connection))
    services = build_services(settings, db=db, plugins=plugins)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        client = client_for(app)
        try:
            yield Running(app, services, client)
        finally:
            await client.http.aclose()
    await db.dispose()


async def seed(database_url: str) -> None:
    """The demo catalogue, written on a connection of its own (not through any fault the test sets up)."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            await seed_catalogue(session)
    finally:
        await db.dispose()


def sqlite_copy(template: str, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "shop.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def session_sql(*statements: str) -> Callable[[Any], None]:
    """For `on_connect`: session settings, committed so the pool's reset does not undo them."""

    def run(connection: Any) -> None:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        connection.commit()

    return run


def assert_unavailable(responses: list[GraphQLResponse], reason: str) -> None:
    """Only SERVICE_UNAVAILABLE with this reason, as a 503 with Retry-After: no INTERNAL_SERVER_ERROR,
    no other code, no partial answer."""
    for response in responses:
        assert response.status == 503, response.body
        assert response.errors and {e["extensions"]["code"] for e in response.errors} == {"SERVICE_UNAVAILABLE"}, \
            response.body
        assert {e["extensions"]["reason"] for e in response.errors} == {reason}, response.body
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.headers["cache-control"] == "no-store"


async def assert_not_ready(run: Running, reason: str) -> None:
    status, body, headers = await run.ready()
    assert (status, body) == (503, {"status": "not_ready", "reason": reason})
    assert headers["cache-control"] == "no-store" and 1 <= int(headers["retry-after"]) <= 60


# The database goes away while requests run, and comes back


class ProxyOutage:
    """PostgreSQL: the proxy's listener and every live connection close while queries are in flight."""

    def __init__(self, database_url: str) -> None:
        target = make_url(database_url)
        self.proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        self.url = target.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)

    async def __aenter__(self) -> ProxyOutage:
        await self.proxy.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.proxy.listening:
            await self.proxy.stop()

    async def go_away(self, run: Running) -> list[asyncio.Task[GraphQLResponse]]:
        self.proxy.hold()
        in_flight = [asyncio.create_task(request) for request in run.requests()]
        async with asyncio.timeout(STEP_SECONDS):
            await self.proxy.held.wait()  # a query is on its way, and will not be answered
        await self.proxy.stop()
        return in_flight

    async def come_back(self) -> None:
        await self.proxy.start()


class FileOutage:
    """SQLite: the file's volume is gone (its directory moves away), so no connection can open it. An
    open SQLite connection keeps its file, so the pool is emptied first, as losing the volume would."""

    def __init__(self, template: str, directory: Path) -> None:
        self.directory = directory
        self.away = directory.with_name("away")
        self.url = sqlite_copy(template, directory)

    async def __aenter__(self) -> FileOutage:
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.away.exists():
            self.away.rename(self.directory)

    async def go_away(self, run: Running) -> list[asyncio.Task[GraphQLResponse]]:
        await run.services.db.engine.dispose()
        self.directory.rename(self.away)
        return [asyncio.create_task(request) for request in run.requests()]

    async def come_back(self) -> None:
        self.away.rename(self.directory)


async def test_p15_the_database_going_away_while_requests_run_gives_only_503s_and_the_app_recovers(
    database_url: str, database_template: str, tmp_path: Path
) -> None:
    outage = ProxyOutage(database_url) if is_postgres(database_url) else FileOutage(database_template,
                                                                                   tmp_path / "data")
    async with outage:
        await seed(outage.url)
        async with running(outage.url, tmp_path) as run:
            await run.prepare()
            in_flight = await outage.go_away(run)
            responses = await at_once(in_flight)
            # And while it stays away: reads, writes, a registration, a logged-in read.
            responses += await at_once([*run.requests(), run.client.gql(REGISTER, {"input": {
                "email": f"kund.{uuid.uuid4().hex[:8]}@exempel.se", "password": PASSWORD,
                "firstName": "Anna", "lastName": "Svensson"}})])
            assert_unavailable(responses, "database_unreachable")
            # Plain routes answer 503 JSON too, not a 500 page.
            for plain in (await run.client.http.get("/export/some-token", headers=run.shopper_headers),
                          await run.client.http.post(
                              "/unsubscribe/" + run.services.unsubscribe_links.url(uuid.uuid4(), "newsletter")
                              .rsplit("/", 1)[1])):
                assert plain.status_code == 503 and plain.headers["retry-after"]
                assert plain.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert plain.json()["errors"][0]["extensions"]["reason"] == "database_unreachable"
            assert await run.health() == 200  # alive: nothing to restart
            await assert_not_ready(run, "database_unreachable")

            await outage.come_back()
            await run.works()  # same process, same app: no restart
            (await run.client.gql(PRODUCTS)).ok()


# Locked past the busy timeout


@contextmanager
def writer_holding_the_lock(database_url: str) -> Iterator[None]:
    """Another process's writer holds the lock the app's writes need: on SQLite the database's one write
    lock (BEGIN IMMEDIATE), on PostgreSQL the carts table (readers still pass, as on SQLite)."""
    if is_postgres(database_url):
        engine = create_engine(DatabaseURL.parse(database_url).sync_url)
        try:
            with engine.connect() as connection:
                connection.execute(text("LOCK TABLE carts IN EXCLUSIVE MODE"))
                yield
                connection.rollback()
        finally:
            engine.dispose()
        return
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def test_p15_writes_locked_past_the_busy_timeout_answer_503_database_busy_and_succeed_once_released(
    database_url: str, tmp_path: Path
) -> None:
    await seed(database_url)
    # The app's patience, shortened from seconds to a tenth of one so the test stays short.
    short_wait = session_sql("SET lock_timeout = '100ms'") if is_postgres(database_url) \
        else session_sql("PRAGMA busy_timeout = 100")
    async with running(database_url, tmp_path, on_connect=short_wait) as run:
        await run.prepare()
        with writer_holding_the_lock(database_url):
            writes = await at_once([run.add_to_cart() for _ in range(3)])
            assert_unavailable(writes, "database_busy")
            (await run.client.gql(PRODUCTS)).ok()  # reads are not held up
            if not is_postgres(database_url):
                # SQLite has one write lock for the whole database: the instance cannot write at all.
                await assert_not_ready(run, "database_busy")
        await run.works()


# Disk full, for real: a small tmpfs


@contextmanager
def small_disk(mountpoint: Path) -> Iterator[Path]:
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here to fill a disk for real: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(directory: Path) -> Path:
    """Writes a filler file until the file system says it is full."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    # What did not fit in whole blocks, filled byte by byte.
    with filler.open("ab", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    return filler


async def test_p15_sqlite_disk_full_answers_503_database_disk_full_and_recovers_when_space_is_freed(
    database_url: str, database_template: str, tmp_path: Path
) -> None:
    if is_postgres(database_url):
        pytest.skip("fills SQLite's file system; PostgreSQL's data directory is not this test's to fill "
                    "(its SQLSTATE 53100 is covered by the classifier test)")
    with small_disk(tmp_path / "disk") as disk:
        url = sqlite_copy(database_template, disk)
        await seed(url)
        async with running(url, tmp_path) as run:
            await run.prepare()
            filler = fill(disk)
            assert_unavailable([await run.add_to_cart()], "database_disk_full")
            (await run.client.gql(PRODUCTS)).ok()  # what is stored can still be read
            await assert_not_ready(run, "database_disk_full")
            assert await run.health() == 200
            filler.unlink()
            await run.works()


# Read-only: a replica, a standby, a read-only transaction default


def read_only_session(database_url: str) -> Callable[[Any], None]:
    return session_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY") if is_postgres(database_url) \
        else session_sql("PRAGMA query_only = ON")


async def test_p15_a_read_only_database_answers_503_database_read_only_to_writes_while_reads_work(
    database_url: str, tmp_path: Path
) -> None:
    await seed(database_url)
    read_only = read_only_session(database_url)
    async with running(database_url, tmp_path, on_connect=read_only) as run:
        run.product_id = await run.product("SSL-DV")
        assert_unavailable([await run.add_to_cart()], "database_read_only")
        await assert_not_ready(run, "database_read_only")
        (await run.client.gql(PRODUCTS)).ok()
        # A partial answer stays 200: here `logout` (no session, nothing to write) did its part.
        partial = await run.client.gql("mutation($input: AddToCartInput!) { logout addToCart(input: $input) { id } }",
                                       {"input": {"productId": run.product_id}})
        assert partial.status == 200 and partial.data == {"logout": False, "addToCart": None}
        assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in partial.errors] == [
            ("SERVICE_UNAVAILABLE", "database_read_only")]
        assert "retry-after" not in partial.headers


# Behind the migrations


@asynccontextmanager
async def private_database(database_url: str, database_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of this test's own, to take a revision down without touching the shared one."""
    if not is_postgres(database_url):
        yield sqlite_copy(database_template, tmp_path / "private")
        return
    name = f"test_ready_{uuid.uuid4().hex[:8]}"
    admin = create_engine(DatabaseURL.parse(database_url).sync_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        await anyio.to_thread.run_sync(upgrade, url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_p15_ready_answers_503_while_the_schema_is_behind_the_migrations(
    database_url: str, database_template: str, tmp_path: Path
) -> None:
    async with private_database(database_url, database_template, tmp_path) as url, running(url, tmp_path) as run:
        assert (await run.ready())[:2] == (200, {"status": "ready"})
        await run.services.db.engine.dispose()  # no pooled connection in the way of the DDL
        await anyio.to_thread.run_sync(downgrade, url, "-1")
        await assert_not_ready(run, "schema_not_current")
        assert await run.health() == 200
        await anyio.to_thread.run_sync(upgrade, url)
        assert (await run.ready())[:2] == (200, {"status": "ready"})


@pytest.mark.usefixtures("vocabulary")
async def test_p15_ready_answers_503_while_a_plugins_schema_is_behind_its_migrations(
    database_url: str, database_template: str, tmp_path: Path
) -> None:
    from examples.support_tickets import SUPPORT_TICKETS

    async with private_database(database_url, database_template, tmp_path) as url:
        await anyio.to_thread.run_sync(lambda: upgrade(url, plugins=[SUPPORT_TICKETS]))
        async with running(url, tmp_path, plugins=[SUPPORT_TICKETS]) as run:
            assert (await run.ready())[:2] == (200, {"status": "ready"})
            await run.services.db.engine.dispose()  # no pooled connection in the way of the DDL
            await anyio.to_thread.run_sync(lambda: downgrade(url, "base", plugin=SUPPORT_TICKETS))
            await assert_not_ready(run, "schema_not_current")  # the package's schema is still at its head
            await anyio.to_thread.run_sync(lambda: upgrade(url, plugins=[SUPPORT_TICKETS]))
            assert (await run.ready())[:2] == (200, {"status": "ready"})


# The log: one line naming the fault, no personal data


async def test_p15_the_log_names_the_fault_once_per_request_and_no_personal_data(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(database_url)
    read_only = read_only_session(database_url)
    email = f"hemlig.{uuid.uuid4().hex[:8]}@exempel.se"
    caplog.set_level(logging.INFO)  # what production logs
    async with running(database_url, tmp_path, on_connect=read_only) as run:
        registered = await run.client.gql(REGISTER, {"input": {"email": email, "password": PASSWORD,
                                                                "firstName": "Hemliga", "lastName": "Persson"}})
        assert_unavailable([registered], "database_read_only")
        product = await run.product("DOMAIN-SE")
        twice = await run.client.gql("""mutation($input: AddToCartInput!) {
            a: addToCart(input: $input) { id } b: addToCart(input: $input) { id } }""",
                                     {"input": {"productId": product, "domainName": "hemlig-persson.se"}})
        assert_unavailable([twice], "database_read_only")
        assert len(twice.errors) == 2
    fault_lines = [r for r in caplog.records if r.getMessage().startswith("database fault:")]
    request_ids = [registered.headers["x-request-id"], twice.headers["x-request-id"]]
    code = "SQLSTATE 25006" if is_postgres(database_url) else "SQLITE_READONLY"
    assert [r.getMessage() for r in fault_lines] == [
        f"database fault: database read-only (reason=database_read_only code={code} request_id={request_id})"
        for request_id in request_ids
    ]
    assert fault_lines[0].levelno == logging.ERROR and not fault_lines[0].exc_info
    everything = "\n".join(logging.Formatter("%(message)s %(exc_text)s").format(r) for r in caplog.records)
    for secret in (email, "Hemliga", "Persson", "hemlig-persson", "INSERT", "UPDATE", "Traceback"):
        assert secret not in everything


READ_CUSTOMER = """query($id: ID!) @purpose(use: CUSTOMER_SERVICE) { customer(id: $id) { email phone } }"""


async def test_p15_a_staff_read_the_access_log_cannot_record_is_withheld_as_503_not_an_internal_error(
    database_url: str, tmp_path: Path
) -> None:
    """The database turns read-only between the staff member's read and its record in the access log:
    nothing read is shown (P14), and the answer says the database failed, so the client may retry."""
    turned = {"read_only": False}
    read_only = read_only_session(database_url)

    def on_connect(connection: Any) -> None:
        if turned["read_only"]:
            read_only(connection)

    async with running(database_url, tmp_path, on_connect=on_connect) as run:
        email = f"kund.{uuid.uuid4().hex[:8]}@exempel.se"
        subject = await create_customer(run.services, email, phone="+46701234567")
        support = await staff_client(run.app, run.services, "support")
        turned["read_only"] = True
        await run.services.db.engine.dispose()  # every connection from here on is read-only
        response = await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
        await support.http.aclose()
    assert_unavailable([response], "database_read_only")
    assert response.data is None and email not in str(response.body)


# Readiness is bounded in time


async def test_p15_the_readiness_probe_answers_within_its_time_bound_while_the_database_does_not(
    services: Services,
) -> None:
    """A writer that does not finish (here: a transaction of this process left open) must not make the
    probe hang: it answers not ready, `database_timeout`, within its bound."""
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with services.db.transaction() as session:
            # SQLite: this transaction holds the write turn; PostgreSQL: the row the probe updates.
            suffix = "" if services.db.url.is_sqlite else " FOR UPDATE"
            await (await session.connection()).execute(text("SELECT version_num FROM alembic_version" + suffix))
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    async with asyncio.timeout(STEP_SECONDS):
        await locked.wait()
    started = time.monotonic()
    readiness = await check_readiness(services.db, timeout=0.3)
    assert readiness == Readiness(False, "database_timeout") and time.monotonic() - started < 2
    release.set()
    await holder
    assert (await check_readiness(services.db)).ready
