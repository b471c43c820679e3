"""The compiled fast path answers every trusted document exactly as the general executor does (P12).

Two apps over one database, the same trusted documents registered in both; one runs their compiled
plans, the other (`trusted_documents_compiled=False`) the general executor. On generated order histories
(empty pages, null values, every status and method), generated variables (page sizes in and out of
range, cursors valid and not) and as a customer, an anonymous visitor and each staff role, both must
answer with the same status, headers and bytes, and leave the same access-log rows. Documents the fast
path does not support (a fragment, `history`, a directive) are among them: they fall back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.orders.lifecycle import OrderStatus
from shop_privacy.payments.providers import PaymentMethod
from shop_privacy.privacy.purposes import StaffRole
from shop_privacy.services import Services, build_services
from shop_privacy.storage.tables import AccessLogEntry, Customer, Order, OrderLine
from shop_privacy.storage.types import utc_now

from .conftest import make_settings
from .helpers import MY_ORDERS, PASSWORD, STAFF_PASSWORD

pytestmark = pytest.mark.anyio

DOCUMENTS = [
    MY_ORDERS,
    """query OrderHistory($first: Int!) { myOrders(first: $first) { edges { node {
  id customerId number placedAt status paymentMethod paymentReference
  total { net { minorUnits currency } vat { minorUnits currency } gross { minorUnits currency } }
  lines { sku productName kind billingPeriod domainName quantity vatRateBasisPoints
    unitPrice { net { minorUnits } vat { minorUnits } gross { minorUnits currency } } total { gross { minorUnits } } }
} } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
    """query Aliased($first: Int = 3) { __typename page: myOrders(first: $first) { __typename
  nodes { __typename key: id n: number when: placedAt } pageInfo { more: hasNextPage } } }""",
    "{ myOrders { edges { node { number } } } }",
    """query($first: Int!) { myOrders(first: $first) { edges { node { number contact { email address { city } } }
} } }""",
    """query($id: ID!) { order(id: $id) { id number status total { __typename gross { __typename cur: currency } }
  lines { __typename sku domainName quantity price: unitPrice { vat { minorUnits } } } } }""",
    """{ me { id email firstName lastName phone companyName address { street postalCode city country } } }""",
    """query($first: Int) { products(first: $first) { edges { cursor node { id sku name kind billingPeriod
  unitPrice { gross { minorUnits currency } } } } pageInfo { hasNextPage endCursor } } }""",
    "{ cart { id itemCount lines { id quantity domainName product { sku } } total { gross { minorUnits } } } }",
    "{ myConsents { purpose granted history { granted source policyVersion } } }",
    # Not supported by the fast path: each falls back to the general executor.
    """query($first: Int!) { myOrders(first: $first) { edges { node { ...Shown } } } }
fragment Shown on Order { id lines { sku } }""",
    """query($first: Int!) { myOrders(first: $first) { edges { node { number history { toStatus } } } } }""",
    """query($first: Int!, $lines: Boolean!) { myOrders(first: $first) { edges { node { number
  lines @include(if: $lines) { sku } } } } }""",
]

SUPPORTED = 10  # the first ten have a plan
REQUEST_ID = "differential-0001"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Pair:
    fast: httpx.AsyncClient
    general: httpx.AsyncClient
    services: Services
    staff_tokens: dict[str, str]


async def _started(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def pair(database_url: str, tmp_path: Path, services: Services, catalogue: dict) -> AsyncIterator[Pair]:
    manifest = tmp_path / "trusted-documents.json"
    manifest.write_text(json.dumps({_hash(text): text for text in DOCUMENTS}), encoding="utf-8")
    fast_settings = make_settings(database_url, tmp_path, trusted_documents_file=manifest)
    general_settings = make_settings(database_url, tmp_path, trusted_documents_file=manifest,
                                     trusted_documents_compiled=False)
    fast_services, general_services = build_services(fast_settings), build_services(general_settings)
    tokens = {}
    for role in StaffRole:
        email = f"{role.value}.{uuid.uuid4().hex[:6]}@shop.example"
        await services.staff.create({"email": email, "display_name": f"Staff {role.value}", "role": role.value,
                                     "password": STAFF_PASSWORD})
        tokens[role.value], _ = await services.staff.login(email, STAFF_PASSWORD, client_ip=None)
    fast_clients = _started(create_app(fast_settings, services=fast_services))
    general_clients = _started(create_app(general_settings, services=general_services))
    fast = await anext(fast_clients)
    general = await anext(general_clients)
    yield Pair(fast, general, services, tokens)
    for clients in (fast_clients, general_clients):
        await clients.aclose()
    for built in (fast_services, general_services):
        await built.close()


lines_strategy = st.lists(st.fixed_dictionaries({
    "kind": st.sampled_from(["DOMAIN", "HOSTING", "SSL", "EMAIL"]),
    "billing_period": st.sampled_from(["ONE_TIME", "MONTHLY", "YEARLY"]),
    "domain_name": st.none() | st.sampled_from(["exempel.se", "butik.nu"]),
    "quantity": st.integers(1, 5),
    "unit_price_net_minor": st.integers(0, 250_000),
}), max_size=3)
orders_strategy = st.lists(st.fixed_dictionaries({
    "status": st.sampled_from(list(OrderStatus)),
    "payment_method": st.sampled_from(list(PaymentMethod)),
    "payment_reference": st.none() | st.text("abcdef0123456789_", min_size=1, max_size=20),
    "lines": lines_strategy,
}), max_size=5)
who_strategy = st.sampled_from(["customer", "anonymous", *(role.value for role in StaffRole)])
first_strategy = st.sampled_from([1, 2, 3, 50, 0, 101, None])
after_strategy = st.sampled_from([None, "first-page", "not-a-cursor"])


async def _seed(services: Services, orders: list[dict]) -> str:
    """A customer with these orders, logged in; returns the bearer token."""
    start = utc_now() - timedelta(days=1)
    async with services.db.transaction() as session:
        customer = Customer(email=f"diff.{uuid.uuid4().hex[:10]}@exempel.se", first_name="Diff", last_name="Kund",
                            password_hash=await services.hasher.hash(PASSWORD))
        session.add(customer)
        await session.flush()
        for i, drawn in enumerate(orders):
            net = sum(line["unit_price_net_minor"] * line["quantity"] for line in drawn["lines"])
            order = Order(customer_id=customer.id, order_number=f"D-{customer.id.hex[:8]}-{i}",
                          idempotency_key=f"diff-{i:04d}", status=drawn["status"].value,
                          payment_method=drawn["payment_method"].value, payment_reference=drawn["payment_reference"],
                          currency="SEK", subtotal_net_minor=net, vat_minor=net // 4, total_minor=net + net // 4,
                          placed_at=start + timedelta(minutes=i), email=customer.email)
            session.add(order)
            session.add_all(
                OrderLine(order_id=order.id, position=p, sku=f"SKU-{p}", product_name=f"Tjänst {p}",
                          kind=line["kind"], billing_period=line["billing_period"], domain_name=line["domain_name"],
                          quantity=line["quantity"], unit_price_net_minor=line["unit_price_net_minor"],
                          vat_rate_basis_points=2500, line_net_minor=line["unit_price_net_minor"] * line["quantity"],
                          line_vat_minor=line["unit_price_net_minor"] * line["quantity"] // 4,
                          line_total_minor=line["unit_price_net_minor"] * line["quantity"] * 5 // 4)
                for p, line in enumerate(drawn["lines"])
            )
        logged_in = await services.authentication.start_session(session, customer, client_ip=None, cart_token=None)
    return logged_in.token


async def _access_log_rows(services: Services) -> int:
    async with services.db.read() as session:
        return (await session.exec(select(func.count()).select_from(AccessLogEntry))).one()[0]  # type: ignore[call-overload]


@pytest.mark.policy("P12")
@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(orders=orders_strategy, document=st.sampled_from(DOCUMENTS), who=who_strategy, first=first_strategy,
       after=after_strategy, by_id=st.booleans())
async def test_p12_every_trusted_document_answers_the_same_bytes_compiled_or_not(
    pair: Pair, orders: list[dict], document: str, who: str, first: int | None, after: str | None, by_id: bool
) -> None:
    token = await _seed(pair.services, orders)
    bearer = {"customer": token, "anonymous": None}.get(who, pair.staff_tokens.get(who))
    headers = {"X-Request-ID": REQUEST_ID, **({"Authorization": f"Bearer {bearer}"} if bearer else {})}
    page = (await pair.general.post("/graphql", json={"query": MY_ORDERS, "variables": {"first": 1}},
                                    headers={"Authorization": f"Bearer {token}"})).json()
    edges = page["data"]["myOrders"]["edges"]
    variables: dict[str, object] = {"lines": True, "id": edges[0]["node"]["id"] if edges else "T3JkZXI6bm9uZQ"}
    if first is not None:
        variables["first"] = first
    if after == "first-page":
        variables["after"] = edges[0]["cursor"] if edges else "not-a-cursor"
    elif after is not None:
        variables["after"] = after
    body = {"documentId": f"sha256:{_hash(document)}"} if by_id else {"query": document}
    body["variables"] = variables
    log_before = await _access_log_rows(pair.services)
    fast = await pair.fast.post("/graphql", json=body, headers=headers)
    log_between = await _access_log_rows(pair.services)
    general = await pair.general.post("/graphql", json=body, headers=headers)
    log_after = await _access_log_rows(pair.services)
    assert fast.status_code == general.status_code
    assert fast.content == general.content, (fast.content, general.content)
    assert fast.headers.items() == general.headers.items()
    assert log_between - log_before == log_after - log_between


@pytest.mark.policy("P12")
async def test_p12_the_fast_path_is_taken_for_a_supported_document_and_not_for_others(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The differential test would pass with no fast path at all: this one shows it runs."""
    from shop_privacy.schema import compiled

    answered: list[bool] = []
    original = compiled.run

    async def counting(*args: object, **kwargs: object) -> object:
        data = await original(*args, **kwargs)  # type: ignore[arg-type]
        answered.append(data is not None)
        return data

    monkeypatch.setattr(compiled, "run", counting)
    token = await _seed(pair.services, [{"status": OrderStatus.PAID, "payment_method": PaymentMethod.SWISH,
                                          "payment_reference": None, "lines": []}])
    headers = {"Authorization": f"Bearer {token}"}
    page = (await pair.general.post("/graphql", headers=headers, json={"query": MY_ORDERS,
                                                                        "variables": {"first": 1}})).json()
    variables = {"first": 2, "id": page["data"]["myOrders"]["edges"][0]["node"]["id"]}
    for document in DOCUMENTS[:SUPPORTED]:
        response = await pair.fast.post("/graphql", headers=headers, json={"query": document,
                                                                             "variables": variables})
        assert response.status_code == 200 and "errors" not in response.json(), (document, response.json())
    assert answered == [True] * SUPPORTED
    for document in DOCUMENTS[SUPPORTED:]:
        await pair.fast.post("/graphql", headers=headers, json={"query": document,
                                                                "variables": {"first": 2, "lines": True}})
    assert answered == [True] * SUPPORTED  # unsupported shapes have no plan: the general executor answered
    await pair.general.post("/graphql", headers=headers, json={"query": DOCUMENTS[0], "variables": {"first": 2}})
    assert answered == [True] * SUPPORTED  # with the fast path off, none is run


@pytest.mark.policy("P12")
async def test_p12_the_viewers_own_orders_are_written_from_their_rows_unless_a_field_needs_the_objects(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row mode: for one's own orders the guard decides nothing, so no `Order` or `OrderLine` is built; a
    document selecting `contact` (no value function from the row) builds them as the executor does."""
    from shop_privacy.schema.orders.types import Order as OrderType
    from shop_privacy.schema.orders.types import OrderLine as OrderLineType

    built: list[str] = []
    for cls in (OrderType, OrderLineType):
        original = cls.from_row.__func__  # type: ignore[attr-defined]

        def counting(klass: type, *args: object, _original: object = original, **kwargs: object) -> object:
            built.append(klass.__name__)
            return _original(klass, *args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(cls, "from_row", classmethod(counting))
    token = await _seed(pair.services, [{"status": OrderStatus.PAID, "payment_method": PaymentMethod.SWISH,
                                          "payment_reference": None,
                                          "lines": [{"kind": "DOMAIN", "billing_period": "YEARLY",
                                                     "domain_name": "exempel.se", "quantity": 2,
                                                     "unit_price_net_minor": 9900}]}])
    headers = {"Authorization": f"Bearer {token}"}
    general = (await pair.general.post("/graphql", headers=headers,
                                       json={"query": DOCUMENTS[1], "variables": {"first": 5}})).content
    assert built == ["Order", "OrderLine"]  # the general executor builds the objects
    built.clear()
    fast = (await pair.fast.post("/graphql", headers=headers,
                                 json={"query": DOCUMENTS[1], "variables": {"first": 5}})).content
    assert fast == general and built == []
    order_id = json.loads(fast)["data"]["myOrders"]["edges"][0]["node"]["id"]
    single = DOCUMENTS[5]
    assert (await pair.fast.post("/graphql", headers=headers, json={"query": single, "variables": {"id": order_id}})
            ).content == (await pair.general.post("/graphql", headers=headers,
                                                  json={"query": single, "variables": {"id": order_id}})).content
    assert built == ["Order", "OrderLine"]  # only the general executor's
    built.clear()
    with_contact = (await pair.fast.post("/graphql", headers=headers,
                                         json={"query": DOCUMENTS[4], "variables": {"first": 5}})).json()
    assert "errors" not in with_contact and built == ["Order"]


@pytest.mark.policy("P06")
@pytest.mark.policy("P12")
async def test_p06_a_card_number_or_a_nul_in_a_trusted_documents_variables_is_refused_as_by_the_executor(
    pair: Pair,
) -> None:
    """The plan checks its variables with the input guard (the arguments found once, when compiled)."""
    token = await _seed(pair.services, [])
    headers = {"Authorization": f"Bearer {token}"}
    for after, reason in (("4111 1111 1111 1111", "card_number"), ("a\x00b", "invalid_characters")):
        body = {"query": MY_ORDERS, "variables": {"first": 2, "after": after}}
        fast = await pair.fast.post("/graphql", headers=headers, json=body)
        general = await pair.general.post("/graphql", headers=headers, json=body)
        assert fast.content == general.content
        (error,) = fast.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["reason"] == reason
        assert error["extensions"]["fields"] == ["after"]
