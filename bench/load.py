"""Mixed storefront load: many customers at once over real HTTP, then a reconciliation with the database.

For each configuration (database x server processes x concurrent clients) the script:

1. makes a fresh database (a SQLite file in a temporary directory, or the PostgreSQL database named in
   --database, created here and dropped afterwards), migrates it once, seeds the demo catalogue and
   the customers (complete profiles: phone and address; one argon2id hash computed once and reused);
2. starts the real app as 1 or 2 uvicorn processes on free loopback ports (`bench/load_app.py`,
   which is `create_app(Settings())`), configured through SHOP_PRIVACY_* environment variables, and
   waits for uvicorn's "Uvicorn running on" line in each one's log;
3. runs the clients: each logs in once as its customer (tokenDelivery: BEARER), then, for --seconds,
   sends one request after another (no think time) drawn from a weighted mix of browse `products`,
   `me`, `myOrders(first: 20)` with lines, `cart`, `addToCart`, `checkout` (CARD_STRIPE, a unique
   idempotencyKey) and a fresh `login`. Half of the clients share their customer with another
   client (--sharing), and half of the adds go to the customer's usual product, so adds to one cart
   line race each other and race checkouts, on one process or across two;
4. stops the servers (gracefully: in-flight requests finish), then reconciles what the clients were
   told with what the database holds:
   - every acknowledged checkout's order is stored (matched by its idempotency key's keyed hash) with the quantities
     the answer showed, and no order is stored whose checkout was refused;
   - per customer, the acknowledged addToCart quantities == what is still in the cart + what is in
     that customer's orders' lines (a checkout moves quantities from cart to order, never changes them).
   Requests whose outcome the client cannot know (timeouts, broken connections, HTTP 5xx,
   INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE) may or may not have been applied: they widen the
   allowed range instead of counting as lost or unexplained.

    python bench/load.py                                   # SQLite; 1 and 2 processes; 8 and 32 clients
    python bench/load.py --seconds 5 --clients 8 --processes 1
    python bench/load.py --database postgresql://postgres@127.0.0.1:5432/bench_load --json load.json

Exit status: 0 when every configuration reconciles; 1 when any lost (or unexplained) writes were
found; 2 when the benchmark itself could not run. The tables are printed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from shop_privacy.catalogue.demo import seed_catalogue
from shop_privacy.orders.service import idempotency_key_hash
from shop_privacy.services import build_services
from shop_privacy.settings import Settings
from shop_privacy.storage.migrate import upgrade
from shop_privacy.storage.tables import Cart, CartLine, Customer, Order, OrderLine
from shop_privacy.storage.urls import DatabaseURL
from shop_privacy.tokens import Signer

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

SECRET_KEY = "bench-load-secret-key-0123456789abcdef0123456789"
PASSWORD = "Bench-Lösenord-2026!"
SLOW_MS = 5000.0  # "requests over 5 s"
SERVER_START_SECONDS = 60.0
SERVER_STOP_SECONDS = 15  # uvicorn's graceful shutdown; then the process is killed
SETUP_SECONDS = 120.0  # all first logins together
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a bound on the loop besides the clock
UNKNOWN_OUTCOME_STATUS = 500  # HTTP status from which an answer says nothing about what was written

# The mix: operation -> weight (percent of requests).
MIX: dict[str, int] = {
    "products": 20,
    "me": 12,
    "myOrders": 10,
    "cart": 16,
    "addToCart": 28,
    "checkout": 7,
    "login": 7,
}

USUAL_PRODUCT_SHARE = 0.5  # of the adds: the customer's usual product (one cart line that sharing clients race on)

# Codes after which a write may or may not have happened (the client cannot know).
UNKNOWN_OUTCOME_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT", "TRANSPORT_ERROR",
                                   "BAD_RESPONSE"})

Q_PRODUCTS = """query Products($first: Int!) { products(first: $first) { edges { cursor node { id sku kind name
  domainTld billingPeriod unitPrice { net { minorUnits currency } vat { minorUnits } gross { minorUnits } } } }
  pageInfo { hasNextPage endCursor } } }"""
Q_ME = """query Me { me { id email firstName lastName phone companyName organisationNumber
  address { street postalCode city country } preferredLanguage } }"""
Q_MY_ORDERS = """query MyOrders { myOrders(first: 20) { edges { node { id number placedAt status paymentMethod
  total { net { minorUnits } vat { minorUnits } gross { minorUnits currency } }
  lines { sku productName quantity domainName total { gross { minorUnits } } } } }
  pageInfo { hasNextPage endCursor } } }"""
Q_CART = """query Cart { cart { id itemCount lines { id quantity domainName product { sku name }
  total { gross { minorUnits } } } total { net { minorUnits } vat { minorUnits } gross { minorUnits currency } } } }"""
M_ADD = """mutation Add($input: AddToCartInput!) { addToCart(input: $input) { id itemCount } }"""
M_CHECKOUT = """mutation Checkout($key: String!) {
  checkout(input: { paymentMethod: CARD_STRIPE, idempotencyKey: $key }) {
  id number status paymentMethod paymentReference total { gross { minorUnits currency } }
  lines { sku productName quantity domainName total { gross { minorUnits } } } } }"""
M_LOGIN = """mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password, tokenDelivery: BEARER }) { sessionToken } }"""

# The field each operation answers in; None there (without an error) is itself a failure, except `cart`
# (a customer without a cart has none).
FIELD = {"products": "products", "me": "me", "myOrders": "myOrders", "cart": "cart", "addToCart": "addToCart",
         "checkout": "checkout", "login": "login"}
MAY_BE_NULL = frozenset({"cart"})


# Measuring


@dataclass
class Answer:
    op: str
    ms: float
    status: int | None  # HTTP status; None when no answer came
    code: str | None  # None when OK; else extensions.code, or TIMEOUT / TRANSPORT_ERROR / BAD_RESPONSE / NULL_ANSWER
    reason: str | None = None
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def outcome_unknown(self) -> bool:
        """The request may have been applied or not."""
        return self.code in UNKNOWN_OUTCOME_CODES or (self.status or 0) >= UNKNOWN_OUTCOME_STATUS


async def call(http: httpx.AsyncClient, op: str, query: str, variables: dict[str, Any] | None = None) -> Answer:
    started = time.perf_counter()
    try:
        response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    except httpx.TimeoutException:
        return Answer(op, (time.perf_counter() - started) * 1000, None, "TIMEOUT")
    except httpx.TransportError as error:
        return Answer(op, (time.perf_counter() - started) * 1000, None, "TRANSPORT_ERROR", type(error).__name__)
    ms = (time.perf_counter() - started) * 1000
    try:
        body = response.json()
    except ValueError:
        return Answer(op, ms, response.status_code, "BAD_RESPONSE")
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        extensions = (errors[0] or {}).get("extensions") or {}
        return Answer(op, ms, response.status_code, str(extensions.get("code") or "NO_CODE"),
                      extensions.get("reason"))
    data = (body.get("data") or {}).get(FIELD[op]) if isinstance(body, dict) else None
    if response.status_code != 200:
        return Answer(op, ms, response.status_code, f"HTTP_{response.status_code}")
    if data is None and op not in MAY_BE_NULL:
        return Answer(op, ms, response.status_code, "NULL_ANSWER")
    return Answer(op, ms, response.status_code, None, data=data)


# What each customer was told (for the reconciliation)


@dataclass
class CheckoutSent:
    outcome: str  # "acked" | "refused" | "unknown"
    line_quantity: int = 0  # the acknowledged order's quantities, as the answer showed them


@dataclass
class Ledger:
    acked_quantity: int = 0
    unknown_quantity: int = 0
    checkouts: dict[str, CheckoutSent] = field(default_factory=dict)


@dataclass(frozen=True)
class Shopper:
    index: int
    customer: int
    email: str


@dataclass
class Product:
    id: str
    kind: str
    tld: str | None


def assign_customers(clients: int, sharing: int) -> tuple[int, list[int]]:
    """Half of the clients (rounded down to whole groups) share a customer with `sharing - 1` others; the
    rest have one each. Returns (number of customers, the customer of each client)."""
    groups = (clients // 2) // sharing if sharing > 1 else 0
    owners: list[int] = []
    for group in range(groups):
        owners += [group] * sharing
    owners += list(range(groups, groups + clients - len(owners)))
    return groups + clients - groups * sharing, owners


class Client:
    """One simulated storefront session: a customer, one HTTP connection, one bearer token."""

    def __init__(self, shopper: Shopper, base_url: str, timeout: float, ledger: Ledger, rng: random.Random) -> None:
        self.shopper = shopper
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout,
                                      limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self.ledger = ledger
        self.rng = rng
        self.products: list[Product] = []
        self.item_count = 0  # in the cart, as the last answer about it said
        self.answers: list[Answer] = []
        self.setup_errors: list[str] = []
        self.ready = False

    async def close(self) -> None:
        await self.http.aclose()

    async def login(self) -> Answer:
        answer = await call(self.http, "login", M_LOGIN, {"email": self.shopper.email, "password": PASSWORD})
        if answer.ok and answer.data.get("sessionToken"):
            self.http.headers["Authorization"] = f"Bearer {answer.data['sessionToken']}"
        elif answer.ok:
            answer.code = "NULL_ANSWER"
        return answer

    async def browse(self) -> Answer:
        answer = await call(self.http, "products", Q_PRODUCTS, {"first": 50})
        if answer.ok:
            self.products = [Product(edge["node"]["id"], edge["node"]["kind"], edge["node"]["domainTld"])
                             for edge in answer.data["edges"]]
        return answer

    async def setup(self) -> None:
        """Log in (a few tries) and read the catalogue; not timed."""
        for _ in range(3):
            answer = await self.login()
            if answer.ok:
                break
            self.setup_errors.append(f"login: {answer.code}")
        else:
            return
        answer = await self.browse()
        if not answer.ok or not self.products:
            self.setup_errors.append(f"products: {answer.code}")
            return
        self.ready = True

    async def run(self, deadline: float) -> None:
        ops, weights = list(MIX), list(MIX.values())
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            op = self.rng.choices(ops, weights)[0]
            if op == "checkout" and self.item_count <= 0:
                op = "cart"  # nothing to check out, as far as this client knows: look at the cart instead
            self.answers.append(await getattr(self, f"op_{op}")())

    async def op_products(self) -> Answer:
        return await self.browse()

    async def op_me(self) -> Answer:
        return await call(self.http, "me", Q_ME)

    async def op_myOrders(self) -> Answer:  # noqa: N802
        return await call(self.http, "myOrders", Q_MY_ORDERS)

    async def op_cart(self) -> Answer:
        answer = await call(self.http, "cart", Q_CART)
        if answer.ok:
            self.item_count = (answer.data or {}).get("itemCount") or 0
        return answer

    async def op_login(self) -> Answer:
        return await self.login()

    async def op_addToCart(self) -> Answer:  # noqa: N802
        # Half of the adds go to the customer's usual product, so that clients sharing the customer add to
        # the same cart line at the same time; the rest to any product.
        usual = [p for p in self.products if p.kind != "DOMAIN"]
        if usual and self.rng.random() < USUAL_PRODUCT_SHARE:
            product = usual[self.shopper.customer % len(usual)]
        else:
            product = self.rng.choice(self.products)
        quantity = self.rng.randint(1, 3)
        item: dict[str, Any] = {"productId": product.id, "quantity": quantity}
        if product.kind == "DOMAIN":  # a few domains per customer: lines are bounded, adds repeat on them
            item["domainName"] = f"lastkund{self.shopper.customer}x{self.rng.randint(0, 2)}.{product.tld}"
        answer = await call(self.http, "addToCart", M_ADD, {"input": item})
        if answer.ok:
            self.ledger.acked_quantity += quantity
            self.item_count = answer.data.get("itemCount") or 0
        elif answer.outcome_unknown:
            self.ledger.unknown_quantity += quantity
        return answer

    async def op_checkout(self) -> Answer:
        # The API refuses keys with room for a card number (12+ digits in a row): a UUID's hex would be
        # refused about one time in thirty, a urlsafe token practically never.
        key = f"load-{secrets.token_urlsafe(16)}"
        answer = await call(self.http, "checkout", M_CHECKOUT, {"key": key})
        if answer.ok:
            quantity = sum(line.get("quantity") or 0 for line in answer.data.get("lines") or [])
            self.ledger.checkouts[key] = CheckoutSent("acked", quantity)
            self.item_count = 0
        elif answer.outcome_unknown:
            self.ledger.checkouts[key] = CheckoutSent("unknown")
        else:
            self.ledger.checkouts[key] = CheckoutSent("refused")
            if answer.reason == "empty_cart":
                self.item_count = 0
        return answer


# Figures


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest rank on sorted samples."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def latency_figures(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"count": len(ordered), "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99), "max_ms": ordered[-1] if ordered else math.nan,
            "over_5s": sum(1 for ms in ordered if ms > SLOW_MS)}


def error_key(answer: Answer) -> str:
    return f"{answer.code} ({answer.reason})" if answer.reason else str(answer.code)


# Servers


class Server:
    """One uvicorn process serving the app; its output goes to a log file, read as it comes."""

    RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
    # The app logs "<time> ERROR shop_privacy.graphql unexpected StaleDataError request_id=… path=…" and the
    # frames (bench/load_app.py sets the format); uvicorn logs "ERROR:    Exception in ASGI application" and a
    # traceback whose last line names the exception.
    LEVEL_ERROR = re.compile(r"^(?:ERROR|CRITICAL):|\s(?:ERROR|CRITICAL)\s")
    LEVEL_WARNING = re.compile(r"^WARNING:|\sWARNING\s")
    UNEXPECTED = re.compile(r"\sunexpected (\w+) request_id=")
    FAULT = re.compile(r"\s(database fault): .*\(reason=(\w+)")
    EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\w*)(?::|$)")

    def __init__(self, index: int, env: dict[str, str], log_path: Path, graceful_seconds: int) -> None:
        self.index = index
        self.log_path = log_path
        self.tail: deque[str] = deque(maxlen=60)
        self.error_lines = 0
        self.warning_lines = 0
        self.exceptions: Counter[str] = Counter()
        self.port: int | None = None
        self._started = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "load_app:app", "--factory", "--app-dir", str(BENCH_DIR),
             "--host", "127.0.0.1", "--port", "0", "--no-access-log", "--log-level", "info",
             "--timeout-graceful-shutdown", str(graceful_seconds)],
            cwd=REPO_DIR, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace",
            start_new_session=True,  # Ctrl-C in the terminal reaches the benchmark, which stops the servers itself
        )
        self._reader = threading.Thread(target=self._read, name=f"server-{index}-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log_path.open("w", encoding="utf-8") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.tail.append(line.rstrip("\n"))
                if self.port is None:
                    match = self.RUNNING.search(line)
                    if match:
                        self.port = int(match.group(1))
                        self._started.set()
                        continue
                if self.LEVEL_ERROR.search(line) or line.startswith("Traceback"):
                    self.error_lines += 1
                elif self.LEVEL_WARNING.search(line):
                    self.warning_lines += 1
                match = self.UNEXPECTED.search(line) or self.EXCEPTION.match(line)
                if match:
                    self.exceptions[match.group(1)] += 1
                match = self.FAULT.search(line)
                if match:
                    self.exceptions[f"{match.group(1)} ({match.group(2)})"] += 1
        self._started.set()  # the stream ended: the process is gone

    def wait_started(self, seconds: float) -> str:
        if not self._started.wait(seconds) or self.port is None:
            tail = "\n".join(self.tail)
            raise RuntimeError(f"server {self.index} did not start within {seconds:.0f} s "
                               f"(exit status {self.process.poll()}); its log ends:\n{tail}")
        return f"http://127.0.0.1:{self.port}"

    def stop(self, seconds: float) -> None:
        """SIGTERM (uvicorn finishes in-flight requests), then SIGKILL if it takes longer than `seconds`."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.process.pid)


def cpu_seconds(pid: int | str = "self") -> float | None:
    """User + system CPU time of a process from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def server_env(database_url: str, directory: Path, index: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SHOP_PRIVACY_") and key != "DATABASE_URL"}
    env.update({
        "DATABASE_URL": database_url,
        "SHOP_PRIVACY_SECRET_KEY": SECRET_KEY,
        "SHOP_PRIVACY_PASSWORD_TIME_COST": "2",
        "SHOP_PRIVACY_PASSWORD_MEMORY_KIB": "19456",
        "SHOP_PRIVACY_PASSWORD_PARALLELISM": "1",
        "SHOP_PRIVACY_LOGIN_FAILURES_PER_ACCOUNT": "1000000",
        "SHOP_PRIVACY_LOGIN_FAILURES_PER_ADDRESS": "1000000",
        "SHOP_PRIVACY_MAIL_OUTBOX_DIR": str(directory / f"mail-{index}"),
        "SHOP_PRIVACY_RECIPIENT_OUTBOX_DIR": str(directory / f"recipients-{index}"),
        "SHOP_PRIVACY_SESSION_TOUCH_INTERVAL_SECONDS": "1",
    })
    return env


@contextmanager
def servers_running(count: int, database_url: str, directory: Path, graceful_seconds: int) -> Iterator[list[Server]]:
    servers: list[Server] = []
    try:
        for index in range(count):  # started one after another: the first start compiles nothing for the next
            servers.append(Server(index, server_env(database_url, directory, index),
                                  directory / f"server-{index}.log", graceful_seconds))
        for server in servers:
            server.wait_started(SERVER_START_SECONDS)
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                with suppress(ProcessLookupError):
                    server.process.terminate()
        for server in servers:
            server.stop(graceful_seconds + 5)


# Databases


def is_postgres(database: str) -> bool:
    return database != "sqlite" and DatabaseURL.parse(database).url.get_backend_name() == "postgresql"


def database_arg_problem(database: str) -> str | None:
    """Why --database cannot be used, or None."""
    if database == "sqlite":
        return None
    try:
        url = DatabaseURL.parse(database).url
    except Exception:  # noqa: BLE001 - any unparsable or unsupported URL
        url = None
    if url is None or url.get_backend_name() != "postgresql":
        return "--database: 'sqlite' (a temporary file) or a postgresql:// URL"
    name = url.database or ""
    if not name or name in {"postgres", "template0", "template1", "test"}:
        return (f"--database: refusing to create and drop the database {name!r}; name one of its own, "
                "e.g. postgresql://postgres@127.0.0.1:5432/bench_load")
    return None


def _maintenance_conninfo(database: str) -> tuple[str, str]:
    url = DatabaseURL.parse(database).url
    maintenance = url.set(drivername="postgresql", database="postgres")
    return maintenance.render_as_string(hide_password=False), url.database or ""


def postgres_database_exists(database: str) -> bool:
    conninfo, name = _maintenance_conninfo(database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def drop_postgres_database(database: str) -> None:
    conninfo, name = _maintenance_conninfo(database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(database: str, directory: Path) -> Iterator[str]:
    """A new, empty database for one configuration; removed afterwards."""
    if database == "sqlite":
        path = directory / "load.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    conninfo, name = _maintenance_conninfo(database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield DatabaseURL.parse(database).url.render_as_string(hide_password=False)
    finally:
        drop_postgres_database(database)


def bench_settings(database_url: str, directory: Path) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET_KEY, password_time_cost=2,
                    password_memory_kib=19456, password_parallelism=1,
                    mail_outbox_dir=directory / "mail-seed", recipient_outbox_dir=directory / "recipients-seed")


async def seed(database_url: str, directory: Path, customers: int) -> list[tuple[uuid.UUID, str]]:
    """The demo catalogue and `customers` customers with complete profiles; returns (id, e-mail) of each."""
    services = build_services(bench_settings(database_url, directory))
    try:
        password_hash = await services.hasher.hash(PASSWORD)  # once: every customer has the same password
        made: list[tuple[uuid.UUID, str]] = []
        async with services.db.transaction() as session:
            await seed_catalogue(session)
            for index in range(customers):
                customer = Customer(
                    email=f"last.{index:04d}@exempel.se", password_hash=password_hash,
                    first_name="Anna", last_name=f"Lastsson {index}", phone="+46701234567",
                    company_name="Exempel AB", address_street="Storgatan 1", address_postal_code="111 22",
                    address_city="Stockholm",
                )
                session.add(customer)
                made.append((customer.id, customer.email))
        return made
    finally:
        await services.close()


# Reconciliation


def reconcile(database_url: str, customers: list[tuple[uuid.UUID, str]], ledgers: list[Ledger]) -> dict[str, Any]:
    """What the database holds after the servers stopped, against what the clients were told."""
    ids = [customer_id for customer_id, _ in customers]
    engine = create_engine(DatabaseURL.parse(database_url).sync_url)
    orders, lines, carts = Order.__table__.c, OrderLine.__table__.c, Cart.__table__.c  # type: ignore[attr-defined]
    cart_lines = CartLine.__table__.c  # type: ignore[attr-defined]
    try:
        with engine.connect() as conn:
            stored_orders = conn.execute(
                select(orders.customer_id, orders.idempotency_key, func.coalesce(func.sum(lines.quantity), 0))
                .select_from(Order.__table__.outerjoin(OrderLine.__table__, lines.order_id == orders.id))  # type: ignore[attr-defined]
                .where(orders.customer_id.in_(ids))
                .group_by(orders.id, orders.customer_id, orders.idempotency_key)
            ).all()
            in_carts: dict[uuid.UUID, int] = dict(conn.execute(  # type: ignore[arg-type]
                select(carts.customer_id, func.coalesce(func.sum(cart_lines.quantity), 0))
                .select_from(Cart.__table__.outerjoin(CartLine.__table__, cart_lines.cart_id == carts.id))  # type: ignore[attr-defined]
                .where(carts.customer_id.in_(ids)).group_by(carts.customer_id)
            ).all())
    finally:
        engine.dispose()

    # Orders hold only a keyed hash of the client's idempotency key: the clients' keys are hashed the same
    # way to be found again (a stored hash no client sent stays as it is, and counts as unexplained).
    signer = Signer(SECRET_KEY)
    sent_as = {idempotency_key_hash(signer, key): key for ledger in ledgers for key in ledger.checkouts}
    by_customer: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for customer_id, stored_hash, quantity in stored_orders:
        by_customer[customer_id][sent_as.get(stored_hash, stored_hash)] = int(quantity)

    result = {"orders_acknowledged": 0, "orders_stored": 0, "orders_stored_unknown_outcome": 0,
              "orders_lost": 0, "orders_unexplained": 0, "order_quantity_mismatches": 0,
              "quantity_acknowledged": 0, "quantity_unknown_outcome": 0, "quantity_in_carts": 0,
              "quantity_in_orders": 0, "quantity_lost": 0, "quantity_unexplained": 0,
              "customers_with_lost_quantity": 0}
    for (customer_id, _), ledger in zip(customers, ledgers, strict=True):
        stored = by_customer.get(customer_id, {})
        acked = {key for key, sent in ledger.checkouts.items() if sent.outcome == "acked"}
        unknown = {key for key, sent in ledger.checkouts.items() if sent.outcome == "unknown"}
        result["orders_acknowledged"] += len(acked)
        result["orders_stored"] += len(stored)
        result["orders_stored_unknown_outcome"] += len(unknown & stored.keys())
        result["orders_lost"] += len(acked - stored.keys())
        result["orders_unexplained"] += len(stored.keys() - acked - unknown)
        result["order_quantity_mismatches"] += sum(
            1 for key in acked & stored.keys() if stored[key] != ledger.checkouts[key].line_quantity)

        in_cart, in_orders = int(in_carts.get(customer_id, 0)), sum(stored.values())
        held = in_cart + in_orders
        lost = max(0, ledger.acked_quantity - held)
        result["quantity_acknowledged"] += ledger.acked_quantity
        result["quantity_unknown_outcome"] += ledger.unknown_quantity
        result["quantity_in_carts"] += in_cart
        result["quantity_in_orders"] += in_orders
        result["quantity_lost"] += lost
        result["quantity_unexplained"] += max(0, held - ledger.acked_quantity - ledger.unknown_quantity)
        result["customers_with_lost_quantity"] += 1 if lost else 0
    result["lost_writes"] = result["orders_lost"] + result["quantity_lost"]
    result["unexplained_writes"] = (result["orders_unexplained"] + result["quantity_unexplained"]
                                    + result["order_quantity_mismatches"])
    return result


# One configuration


@dataclass
class Configuration:
    database: str
    processes: int
    clients: int

    @property
    def name(self) -> str:
        kind = "sqlite" if self.database == "sqlite" else "postgresql"
        return f"{kind} x {self.processes} proc x {self.clients} clients"


async def drive(clients: list[Client], seconds: float, timeout: float) -> tuple[float, float]:
    """Log everyone in (not timed), then run the mix for `seconds`. Returns (window seconds, bench CPU s)."""
    async with asyncio.timeout(SETUP_SECONDS):
        await asyncio.gather(*(client.setup() for client in clients))
    ready = [client for client in clients if client.ready]
    cpu_before = cpu_seconds()
    started = time.monotonic()
    # Hard stop: nobody starts a request after the deadline, and a started one ends by its timeout.
    async with asyncio.timeout(seconds + timeout + 10):
        await asyncio.gather(*(client.run(started + seconds) for client in ready))
    window = time.monotonic() - started
    cpu_after = cpu_seconds()
    return window, (cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else math.nan


async def run_clients(config: Configuration, urls: list[str], shoppers: list[Shopper], ledgers: list[Ledger],
                      seconds: float, timeout: float, seed_value: int) -> tuple[list[Client], float, float]:
    clients = [Client(shopper, urls[shopper.index % len(urls)], timeout, ledgers[shopper.customer],
                      random.Random(f"{seed_value}-{config.processes}-{config.clients}-{shopper.index}"))
               for shopper in shoppers]
    try:
        window, bench_cpu = await drive(clients, seconds, timeout)
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
    return clients, window, bench_cpu


def run_configuration(config: Configuration, seconds: float, timeout: float, sharing: int, seed_value: int,
                      console: Console, keep_logs: Path | None) -> dict[str, Any]:
    customer_count, owners = assign_customers(config.clients, sharing)
    console.print(f"[bold]{config.name}[/]: {customer_count} customers "
                  f"({sum(1 for c in Counter(owners).values() if c > 1)} shared by {sharing} clients each), "
                  f"{seconds:g} s")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        directory = Path(tmp)
        with fresh_database(config.database, directory) as database_url:
            upgrade(database_url)
            customers = asyncio.run(seed(database_url, directory, customer_count))
            shoppers = [Shopper(index, owner, customers[owner][1]) for index, owner in enumerate(owners)]
            ledgers = [Ledger() for _ in customers]
            graceful = max(5, min(SERVER_STOP_SECONDS, int(timeout)))
            with servers_running(config.processes, database_url, directory, graceful) as servers:
                urls = [server.wait_started(SERVER_START_SECONDS) for server in servers]
                server_cpu_before = [server.cpu_seconds() for server in servers]
                clients, window, bench_cpu = asyncio.run(
                    run_clients(config, urls, shoppers, ledgers, seconds, timeout, seed_value))
                server_cpu = [(after - before) if after is not None and before is not None else math.nan
                              for before, after in zip(server_cpu_before, (s.cpu_seconds() for s in servers),
                                                       strict=True)]
                # Stop them before reconciling: in-flight requests (even ones the client gave up on) finish
                # or are cut off, and what the database holds is final.
                for server in servers:
                    server.stop(graceful + 5)
            reconciliation = reconcile(database_url, customers, ledgers)
            server_logs = [{"error_lines": server.error_lines, "warning_lines": server.warning_lines,
                            "exceptions": dict(server.exceptions.most_common(8))} for server in servers]
            if keep_logs is not None:
                keep_logs.mkdir(parents=True, exist_ok=True)
                tag = f"{config.name.replace(' x ', '-').replace(' ', '')}"
                for server in servers:
                    shutil.copyfile(server.log_path, keep_logs / f"{tag}-server-{server.index}.log")
    return figures(config, clients, window, bench_cpu, server_cpu, reconciliation, server_logs, customer_count)


def figures(config: Configuration, clients: list[Client], window: float, bench_cpu: float, server_cpu: list[float],
            reconciliation: dict[str, Any], server_logs: list[dict[str, Any]], customers: int) -> dict[str, Any]:
    answers = [answer for client in clients for answer in client.answers]
    per_op: dict[str, list[float]] = defaultdict(list)
    errors_per_op: Counter[str] = Counter()
    errors: Counter[tuple[str, str, str]] = Counter()
    for answer in answers:
        per_op[answer.op].append(answer.ms)
        if not answer.ok:
            errors_per_op[answer.op] += 1
            errors[(answer.op, "-" if answer.status is None else str(answer.status), error_key(answer))] += 1
    overall = latency_figures([answer.ms for answer in answers])
    ok = sum(1 for answer in answers if answer.ok)
    return {
        "configuration": {"database": "sqlite" if config.database == "sqlite" else "postgresql",
                          "processes": config.processes, "clients": config.clients, "customers": customers},
        "window_seconds": window,
        "requests": len(answers),
        "requests_per_second": len(answers) / window if window else math.nan,
        "ok_per_second": ok / window if window else math.nan,
        "errors": len(answers) - ok,
        "latency": overall,
        "operations": {op: {**latency_figures(per_op[op]), "errors": errors_per_op[op]} for op in MIX if per_op[op]},
        "errors_by_code": [{"operation": op, "http_status": status, "code": code, "count": count}
                           for (op, status, code), count in sorted(errors.items(), key=lambda kv: -kv[1])],
        "clients_not_ready": [{"client": c.shopper.index, "errors": c.setup_errors} for c in clients if not c.ready],
        "cpu_seconds": {"benchmark": bench_cpu, "servers": server_cpu},
        "server_logs": server_logs,
        "reconciliation": reconciliation,
    }


# Report


def fmt_ms(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.1f}"


def print_configuration(result: dict[str, Any], console: Console) -> None:
    config, latency = result["configuration"], result["latency"]
    window = result["window_seconds"]
    table = Table(title=(f"{config['database']} · {config['processes']} process(es) · {config['clients']} clients · "
                         f"{config['customers']} customers · {window:.1f} s"), title_justify="left")
    for column in ("operation", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "> 5 s", "errors"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for op, figures_ in result["operations"].items():
        table.add_row(op, str(figures_["count"]), f"{figures_['count'] / window:.1f}", fmt_ms(figures_["p50_ms"]),
                      fmt_ms(figures_["p95_ms"]), fmt_ms(figures_["p99_ms"]), fmt_ms(figures_["max_ms"]),
                      str(figures_["over_5s"]), str(figures_["errors"]))
    table.add_section()
    table.add_row("[bold]all[/]", str(result["requests"]), f"[bold]{result['requests_per_second']:.1f}[/]",
                  fmt_ms(latency["p50_ms"]), fmt_ms(latency["p95_ms"]), fmt_ms(latency["p99_ms"]),
                  fmt_ms(latency["max_ms"]), str(latency["over_5s"]), str(result["errors"]))
    console.print(table)

    cpu = result["cpu_seconds"]
    server_cpu = ", ".join(f"{100 * s / window:.0f} %" for s in cpu["servers"] if not math.isnan(s)) or "-"
    bench_cpu = "-" if math.isnan(cpu["benchmark"]) else f"{100 * cpu['benchmark'] / window:.0f} %"
    console.print(f"CPU over the window (100 % = one core): servers {server_cpu}; clients (this process) {bench_cpu}")
    for missing in result["clients_not_ready"]:
        console.print(f"[yellow]client {missing['client']} never got going: {', '.join(missing['errors'])}[/]")

    if result["errors_by_code"]:
        errors = Table(title="errors by code", title_justify="left")
        for column in ("operation", "HTTP", "extensions.code (reason)", "count"):
            errors.add_column(column, justify="right" if column == "count" else "left")
        for row in result["errors_by_code"]:
            errors.add_row(row["operation"], row["http_status"], row["code"], str(row["count"]))
        console.print(errors)
    else:
        console.print("errors by code: none")
    for index, log in enumerate(result["server_logs"]):
        kinds = ", ".join(f"{name} × {count}" for name, count in log["exceptions"].items()) or "none"
        console.print(f"server {index} log: {log['error_lines']} ERROR lines, {log['warning_lines']} WARNING lines; "
                      f"exceptions and faults named: {kinds}")

    r = result["reconciliation"]
    console.print(
        f"orders: acknowledged {r['orders_acknowledged']}, stored {r['orders_stored']} "
        f"({r['orders_stored_unknown_outcome']} of them after an unknown outcome), "
        f"lost {r['orders_lost']}, stored though refused {r['orders_unexplained']}, "
        f"stored with other quantities than acknowledged {r['order_quantity_mismatches']}")
    console.print(
        f"cart quantities: acknowledged {r['quantity_acknowledged']} (+ {r['quantity_unknown_outcome']} unknown "
        f"outcome) vs held {r['quantity_in_carts'] + r['quantity_in_orders']} "
        f"(in carts {r['quantity_in_carts']}, in orders {r['quantity_in_orders']}); "
        f"lost {r['quantity_lost']} over {r['customers_with_lost_quantity']} customers, "
        f"unexplained extra {r['quantity_unexplained']}")
    style = "bold red" if r["lost_writes"] else "bold green"
    console.print(f"[{style}]lost writes: {r['lost_writes']}[/]   unexplained writes: {r['unexplained_writes']}\n")


def print_summary(results: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="summary", title_justify="left")
    for column in ("database", "processes", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "> 5 s", "errors",
                   "lost writes"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for result in results:
        config, latency, r = result["configuration"], result["latency"], result["reconciliation"]
        table.add_row(config["database"], str(config["processes"]), str(config["clients"]),
                      f"{result['requests_per_second']:.1f}", fmt_ms(latency["p50_ms"]), fmt_ms(latency["p95_ms"]),
                      fmt_ms(latency["p99_ms"]), str(latency["over_5s"]), str(result["errors"]),
                      str(r["lost_writes"]))
    console.print(table)


# Entry point


def without_nan(value: Any) -> Any:
    """NaN (a figure that could not be measured) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nan(item) for item in value]
    return value


def code_version() -> str:
    """The commit the app code is at, and whether the working tree differs from it (figures depend on both)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "shop_privacy"],
                               cwd=REPO_DIR, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{commit}{' + uncommitted changes in shop_privacy/' if dirty else ''}"


def _terminate_as_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Mixed storefront load over real HTTP against 1 or 2 app processes, then a reconciliation "
                    "of what clients were told with what the database holds.")
    parser.add_argument("--database", default="sqlite",
                        help="'sqlite' (a fresh file in a temporary directory, the default) or a postgresql:// URL "
                             "of a database this script creates and drops, once per configuration")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="app processes (default: 1 2)")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32],
                        help="concurrent simulated clients (default: 8 32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run (default 20)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    parser.add_argument("--sharing", type=int, default=2,
                        help="clients per shared customer; half of the clients share (default 2; 1: nobody shares)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the clients' random choices (default 1)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR",
                        help="copy each server's log into DIR (otherwise they go with the temporary directory)")
    parser.add_argument("--drop-existing", action="store_true",
                        help="PostgreSQL: drop the named database first if it exists (otherwise the script refuses)")
    args = parser.parse_args()
    if any(n < 1 or n > 2 for n in args.processes):
        parser.error("--processes: 1 or 2")
    if any(n < 1 or n > 1000 for n in args.clients):
        parser.error("--clients: between 1 and 1000")
    if not 1 <= args.seconds <= 3600 or not 1 <= args.timeout <= 600 or args.sharing < 1:
        parser.error("--seconds 1..3600, --timeout 1..600, --sharing >= 1")
    problem = database_arg_problem(args.database)
    if problem:
        parser.error(problem)

    console = Console()
    if not console.is_terminal:  # piped or redirected: wide enough that no column is cut
        console = Console(width=160)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    if is_postgres(args.database):
        try:
            exists = postgres_database_exists(args.database)
            if exists and args.drop_existing:
                drop_postgres_database(args.database)
        except psycopg.Error as error:
            console.print(f"[red]PostgreSQL at {DatabaseURL.parse(args.database)} is not usable: {error}[/]")
            return 2
        if exists and not args.drop_existing:
            console.print(f"[red]the database {make_url(args.database).database!r} exists already; the script "
                          "creates and drops it itself. Drop it, or pass --drop-existing.[/]")
            return 2

    configurations = [Configuration(args.database, processes, clients)
                      for processes in args.processes for clients in args.clients]
    version = code_version()
    console.print(f"code: {version}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    console.print(f"mix (weights): {', '.join(f'{op} {weight}' for op, weight in MIX.items())}")
    results: list[dict[str, Any]] = []
    failed: str | None = None
    try:
        for config in configurations:
            result = run_configuration(config, args.seconds, args.timeout, args.sharing, args.seed, console,
                                       args.keep_logs)
            results.append(result)
            print_configuration(result, console)
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as error:  # noqa: BLE001 - report, still print what was measured
        failed = f"{type(error).__name__}: {error}"
    if results:
        print_summary(results, console)
    if args.json:
        document = {"code": version, "python": sys.version.split()[0], "cpus": os.cpu_count(), "mix": MIX,
                    "seconds": args.seconds, "timeout": args.timeout, "sharing": args.sharing, "seed": args.seed,
                    "results": results, "failed": failed}
        args.json.write_text(json.dumps(without_nan(document), indent=2, default=str))
    lost = sum(result["reconciliation"]["lost_writes"] for result in results)
    unexplained = sum(result["reconciliation"]["unexplained_writes"] for result in results)
    console.print(f"[bold]lost writes: {lost}[/] (over {len(results)} configuration(s)); "
                  f"unexplained writes: {unexplained}")
    if failed:
        console.print(f"[red]the benchmark did not finish: {failed}[/]")
        return 2
    return 1 if lost or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
