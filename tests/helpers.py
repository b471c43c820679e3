"""Helpers the tests share: a GraphQL client over HTTP, the mail outbox, customers and products."""

from __future__ import annotations

import email
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from shop_privacy.mail.mailer import Mailer

PASSWORD = "Blå-Skog-Väg-2026!"


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]

    def ok(self) -> Any:
        assert self.status == 200 and not self.errors, self.body
        return self.data


class StorefrontClient:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def gql(self, query: str, variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> GraphQLResponse:
        response = await self.http.post(self.path, json={"query": query, "variables": variables or {}},
                                        headers=headers)
        return GraphQLResponse(response.status_code, response.json(), response.headers)


class Outbox:
    def __init__(self, directory: Path, mailer: Mailer) -> None:
        self.directory = directory
        self.mailer = mailer

    async def messages(self, to: str | None = None, kind: str | None = None) -> list[Message]:
        await self.mailer.flush()
        if not self.directory.exists():
            return []
        found = [email.message_from_bytes(path.read_bytes()) for path in sorted(self.directory.glob("*.eml"),
                                                                                 key=lambda p: p.stat().st_mtime_ns)]
        return [m for m in found if (to is None or m["To"] == to) and (kind is None or m["X-Shop-Mail-Kind"] == kind)]

    async def link_token(self, to: str, kind: str) -> str:
        messages = await self.messages(to, kind)
        assert messages, f"no {kind} mail to {to}"
        body = messages[-1].get_payload(decode=True).decode()
        match = re.search(r"[?&]token=([A-Za-z0-9_\-.]+)", body)
        assert match, body
        return match.group(1)


REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { accepted message } }"""
VERIFY = """mutation($token: String!, $password: String!) { verifyEmail(token: $token, password: $password) {
  customer { id email } cartMerged } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { customer { id email } cartMerged sessionToken } }"""
LOGOUT = "mutation { logout }"
ME = """{ me { id email firstName lastName phone companyName organisationNumber
  address { street postalCode city country } } }"""
PRODUCTS = "{ products(first: 50) { edges { node { id sku kind domainTld } } } }"
ADD_TO_CART = """mutation($input: AddToCartInput!) { addToCart(input: $input) {
  id itemCount lines { id quantity domainName product { sku } } total { gross { minorUnits currency } } } }"""
CART = "{ cart { id itemCount lines { id quantity domainName product { sku } } } }"
UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  emailChangePending customer { email firstName phone companyName organisationNumber
  address { street postalCode city } } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  id number status paymentMethod paymentReference total { net { minorUnits } vat { minorUnits } gross { minorUnits } }
  contact { email phone organisationNumber } lines { sku quantity domainName total { gross { minorUnits } } } } }"""
MY_ORDERS = """query($first: Int!, $after: String) { myOrders(first: $first, after: $after) {
  edges { cursor node { id number placedAt total { gross { minorUnits } } lines { sku quantity } } }
  pageInfo { hasNextPage hasPreviousPage endCursor } } }"""

COMPLETE_PROFILE = {
    "phone": "070-123 45 67",
    "companyName": "Exempel AB",
    "address": {"street": "Storgatan 1", "postalCode": "111 22", "city": "Stockholm", "country": "SE"},
}


async def product_ids(client: StorefrontClient) -> dict[str, str]:
    data = (await client.gql(PRODUCTS)).ok()
    return {edge["node"]["sku"]: edge["node"]["id"] for edge in data["products"]["edges"]}


async def register_and_verify(client: StorefrontClient, outbox: Outbox, email_address: str,
                              password: str = PASSWORD) -> str:
    """A confirmed, logged-in customer (the client holds the session cookie); returns the customer id."""
    (await client.gql(REGISTER, {"input": {"email": email_address, "password": password,
                                           "firstName": "Anna", "lastName": "Svensson"}})).ok()
    token = await outbox.link_token(email_address, "verify_email")
    return (await client.gql(VERIFY, {"token": token, "password": password})).ok()["verifyEmail"]["customer"]["id"]


async def login(client: StorefrontClient, email_address: str, password: str = PASSWORD) -> GraphQLResponse:
    return await client.gql(LOGIN, {"input": {"email": email_address, "password": password}})


async def create_customer(services: Any, email_address: str, password: str = PASSWORD, **profile: Any) -> Any:
    """A confirmed customer written straight to the database; returns its id."""
    from shop_privacy.storage.tables import Customer

    values = {"first_name": "Anna", "last_name": "Svensson", **profile}
    async with services.db.transaction() as session:
        customer = Customer(email=email_address, password_hash=await services.hasher.hash(password), **values)
        session.add(customer)
    return customer.id


async def seed_orders(services: Any, customer_id: Any, count: int, lines: int = 3) -> list[Any]:
    """`count` orders of `lines` lines each, one minute apart, newest last; returns their ids."""
    import uuid
    from datetime import timedelta

    from shop_privacy.storage.tables import Order, OrderLine
    from shop_privacy.storage.types import utc_now

    start = utc_now() - timedelta(minutes=count + 1)
    batch = uuid.uuid4().hex[:6]  # order numbers and keys unique across calls
    orders = [
        Order(customer_id=customer_id, order_number=f"T-{batch}-{i:05d}", idempotency_key=f"seed-{batch}-{i:05d}",
              status="PAID", payment_method="CARD_STRIPE", payment_reference=f"pi_seed_{i}", currency="SEK",
              subtotal_net_minor=1000 * lines, vat_minor=250 * lines, total_minor=1250 * lines,
              placed_at=start + timedelta(minutes=i), email="seed@exempel.se")
        for i in range(count)
    ]
    async with services.db.transaction() as session:
        session.add_all(orders)
        await session.flush()
        session.add_all(
            OrderLine(order_id=order.id, position=p, sku=f"SKU-{p}", product_name=f"Tjänst {p}", kind="HOSTING",
                      billing_period="MONTHLY", quantity=1, unit_price_net_minor=1000, vat_rate_basis_points=2500,
                      line_net_minor=1000, line_vat_minor=250, line_total_minor=1250)
            for order in orders for p in range(lines)
        )
    return [order.id for order in orders]


STAFF_PASSWORD = "Personal-Lösen-För-Stab-7"
STAFF_LOGIN = """mutation($input: StaffLoginInput!) { staffLogin(input: $input) {
  staffMember { id email role } sessionToken } }"""


async def staff_client(app: Any, services: Any, role: str, email: str | None = None) -> StorefrontClient:
    """A logged-in staff member's client for /admin/graphql."""
    import uuid

    import httpx

    email = email or f"{role}.{uuid.uuid4().hex[:8]}@shop.example"
    await services.staff.create({"email": email, "display_name": f"Staff {role}", "role": role,
                                 "password": STAFF_PASSWORD})
    transport = httpx.ASGITransport(app=app, client=("10.0.0.5", 40000))
    client = StorefrontClient(httpx.AsyncClient(transport=transport, base_url="http://testserver"),
                              path="/admin/graphql")
    (await client.gql(STAFF_LOGIN, {"input": {"email": email, "password": STAFF_PASSWORD}})).ok()
    return client


@contextmanager
def count_statements(services: Any) -> Iterator[list[str]]:
    """Every SQL statement the services' engine sends while the block runs, as sent."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def verbs(statements: list[str]) -> list[str]:
    """Each statement's first word, upper-case: SELECT, BEGIN, INSERT…"""
    return [statement.lstrip().split(None, 1)[0].upper() for statement in statements]


def random_email(prefix: str = "kund") -> str:
    """A fresh address. Ten hex digits at most: twelve in a row can pass for a card number (about 1 in 2,300
    addresses), and the input guard then refuses a login or registration with it (BAD_USER_INPUT)."""
    return f"{prefix}.{uuid.uuid4().hex[:10]}@exempel.se"
