"""Checkout and order history: P05 (org number), P06 (no card numbers), P07 (what an order keeps), P12."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from starlette.applications import Starlette

from shop_privacy.privacy.card_numbers import contains_card_number, luhn_valid
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import Order, OrderEvent, OrderLine

from .conftest import client_for
from .helpers import (
    ADD_TO_CART,
    CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    ME,
    MY_ORDERS,
    REGISTER,
    UPDATE_PROFILE,
    StorefrontClient,
    count_statements,
    create_customer,
    login,
    product_ids,
    seed_orders,
)

pytestmark = pytest.mark.anyio

VISA_TEST = "4111 1111 1111 1111"


async def _shopper(client: StorefrontClient, services: Services, email: str, **profile: object) -> uuid.UUID:
    """A logged-in customer with a complete profile and a hosting plan in the cart."""
    customer_id = await create_customer(services, email, **profile)
    (await login(client, email)).ok()
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-BUSINESS"], "quantity": 2}})).ok()
    return customer_id


async def _orders(services: Services) -> list[Order]:
    async with services.db.reader() as session:
        return list((await session.exec(select(Order))).scalars().all())  # type: ignore[call-overload]


def _checkout(method: str, key: str = "checkout-key-0001", **extra: object) -> dict[str, object]:
    return {"input": {"paymentMethod": method, "idempotencyKey": key, **extra}}


# P05: the organisation number, only for invoices, validated


@pytest.mark.policy("P05")
async def test_p05_invoice_needs_a_valid_org_number_and_only_then_stores_it(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _shopper(client, services, unique_email)
    missing = await client.gql(CHECKOUT, _checkout("INVOICE"))
    assert missing.errors[0]["extensions"]["reason"] == "invoice_details_missing"
    bad_check_digit = await client.gql(CHECKOUT, _checkout("INVOICE", organisationNumber="556036-0794"))
    assert bad_check_digit.codes == ["BAD_USER_INPUT"] and "check digit" in bad_check_digit.errors[0]["message"]
    bad_format = await client.gql(CHECKOUT, _checkout("INVOICE", organisationNumber="55603-60793x"))
    assert bad_format.codes == ["BAD_USER_INPUT"]
    assert await _orders(services) == []

    order = (await client.gql(CHECKOUT, _checkout("INVOICE", organisationNumber="5560360793"))).ok()["checkout"]
    assert order["contact"]["organisationNumber"] == "556036-0793"
    assert order["status"] == "PENDING_PAYMENT" and order["paymentReference"].startswith("INV-SANDBOX-")
    (stored,) = await _orders(services)
    assert stored.company_org_number == "556036-0793"
    # Given at checkout, it is kept on the order, not copied into the profile.
    assert (await client.gql(ME)).ok()["me"]["organisationNumber"] is None


@pytest.mark.policy("P05")
@pytest.mark.parametrize("method", ["CARD_STRIPE", "CARD_PAYPAL", "SWISH"])
async def test_p05_an_org_number_is_refused_for_other_payment_methods(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str, method: str
) -> None:
    await _shopper(client, services, unique_email)
    response = await client.gql(CHECKOUT, _checkout(method, organisationNumber="556036-0793"))
    assert response.codes == ["BAD_USER_INPUT"] and response.errors[0]["extensions"]["reason"] == "not_needed"
    assert await _orders(services) == []


@pytest.mark.policy("P05")
async def test_p05_card_orders_keep_no_org_number_even_when_the_profile_has_one(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _shopper(client, services, unique_email, company_org_number="556036-0793")
    (await client.gql(CHECKOUT, _checkout("CARD_PAYPAL"))).ok()
    (stored,) = await _orders(services)
    assert stored.company_org_number is None and stored.payment_reference.startswith("PAYID-SANDBOX-")


# P06: card numbers never accepted, nothing stored


def test_p06_luhn_runs_of_12_to_19_digits_are_card_numbers() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    for text_with_card in (VISA_TEST, "kort 4111-1111-1111-1111 tack", "5555555555554444", "378282246310005",
                           "4111 1111 1111 1111 123", "ab4111111111111111cd", "6011000990139424"):
        assert contains_card_number(text_with_card), text_with_card
    for harmless in ("556036-0793", "+46 70 123 45 67", "Storgatan 12, 111 22 Stockholm", "4111 1111 1111 1112",
                     "12345678901", "SP-20261123-ABC123"):
        assert not contains_card_number(harmless), harmless


@pytest.mark.policy("P06")
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (UPDATE_PROFILE, {"input": {"address": {"street": f"Kort {VISA_TEST}"}}}),
        (UPDATE_PROFILE, {"input": {"companyName": "4111111111111111"}}),
        ('mutation { updateProfile(input: {firstName: "5555 5555 5555 4444"}) { emailChangePending } }', {}),
        (ADD_TO_CART, {"input": {"productId": "x", "domainName": "4111111111111111.se"}}),
        (REGISTER, {"input": {"email": "a@b.se", "password": "Long-enough-pass-1", "firstName": VISA_TEST,
                              "lastName": "B"}}),
    ],
)
async def test_p06_a_card_number_in_any_text_input_is_rejected_and_nothing_is_stored(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str,
    query: str, variables: dict[str, object],
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    response = await client.gql(query, variables)
    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["reason"] == "card_number"
    # Every text a customer can write lands in a declared personal column; hashes and random ids
    # (which may hold digit runs by chance) are not such texts.
    from sqlmodel import SQLModel
    from sqlmodel.sql.sqltypes import AutoString

    from shop_privacy.privacy.declarations import PersonalData
    from shop_privacy.storage.inventory import declared_columns

    free_text = [(c.table, c.column) for c in declared_columns() if isinstance(c.declaration, PersonalData)
                 and c.table in {"customers", "pending_registrations", "cart_lines", "orders", "order_lines"}
                 and "user.authorization.credentials" not in c.declaration.categories
                 and isinstance(SQLModel.metadata.tables[c.table].columns[c.column].type, AutoString)]
    values: list[str] = []
    async with services.db.reader() as session:
        for table, column in free_text:
            rows = (await session.exec(text(f"SELECT {column} FROM {table}"))).all()  # type: ignore[call-overload]
            values.extend(str(row[0]) for row in rows if isinstance(row[0], str))
    assert values  # the customer's own row at least
    assert not any(contains_card_number(value) for value in values)


@pytest.mark.policy("P06")
async def test_p06_services_refuse_card_numbers_even_without_graphql(
    services: Services, unique_email: str
) -> None:
    from shop_privacy.accounts.sessions import Viewer
    from shop_privacy.errors import BadUserInput

    customer_id = await create_customer(services, unique_email)
    with pytest.raises(BadUserInput, match="card number"):
        await services.profiles.update(Viewer(customer_id, uuid.uuid4()), {"company_name": VISA_TEST},
                                       request_id="test")


@pytest.mark.policy("P06")
async def test_p06_only_the_providers_payment_reference_is_kept(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _shopper(client, services, unique_email)
    order = (await client.gql(CHECKOUT, _checkout("CARD_STRIPE"))).ok()["checkout"]
    (stored,) = await _orders(services)
    assert stored.payment_reference == order["paymentReference"]
    from sqlmodel import SQLModel

    card_words = {"card", "pan", "cvc", "cvv", "expiry"}
    card_columns = [f"{table.name}.{column.name}" for table in SQLModel.metadata.tables.values()
                    for column in table.columns if card_words & set(column.name.split("_"))]
    assert card_columns == []


# P07: what an order keeps


@pytest.mark.policy("P07")
async def test_p07_an_order_keeps_name_address_phone_email_ip_services_and_history(
    app: Starlette, services: Services, catalogue: dict, unique_email: str
) -> None:
    client = client_for(app, ip="203.0.113.99")
    customer_id = await _shopper(client, services, unique_email)
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-NU"], "domainName": "exempel.nu"}})).ok()
    (await client.gql(CHECKOUT, _checkout("SWISH"))).ok()
    (order,) = await _orders(services)
    assert (order.customer_id, order.ip_address, order.email) == (customer_id, "203.0.113.99", unique_email)
    assert (order.first_name, order.last_name, order.phone) == ("Anna", "Svensson", "+46701234567")
    assert (order.company_name, order.address_street, order.address_postal_code, order.address_city) == (
        "Exempel AB", "Storgatan 1", "11122", "Stockholm")
    async with services.db.reader() as session:
        lines = (await session.exec(select(OrderLine).order_by(OrderLine.position))).scalars().all()  # type: ignore[call-overload]
    assert [(line.sku, line.domain_name, line.quantity) for line in lines] == [
        ("HOSTING-BUSINESS", None, 2), ("DOMAIN-NU", "exempel.nu", 1)]
    # Price and VAT are a snapshot: 2 × 129.00 + 179.00 net, 25 % VAT.
    assert (order.subtotal_net_minor, order.vat_minor, order.total_minor) == (43_700, 10_925, 54_625)
    await client.http.aclose()


@pytest.mark.policy("P07")
def test_p07_the_ip_address_has_its_own_short_retention() -> None:
    from shop_privacy.privacy.declarations import PersonalData
    from shop_privacy.privacy.retention import RETENTION_RULES
    from shop_privacy.storage.columns import PRIVACY_INFO_KEY

    declaration = Order.__table__.columns["ip_address"].info[PRIVACY_INFO_KEY]
    assert isinstance(declaration, PersonalData)
    assert declaration.categories == ("user.device.ip_address",)
    rule = RETENTION_RULES[declaration.retention]
    assert rule.period is not None and rule.period.days <= 90
    from datetime import timedelta

    assert rule.period < timedelta(days=365 * RETENTION_RULES["bookkeeping"].years)


# P12: accounts see their own orders


@pytest.mark.policy("P12")
async def test_p12_checkout_is_atomic_and_idempotent(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _shopper(client, services, unique_email)
    first = (await client.gql(CHECKOUT, _checkout("CARD_STRIPE", key="double-submit-1"))).ok()["checkout"]
    again = (await client.gql(CHECKOUT, _checkout("CARD_STRIPE", key="double-submit-1"))).ok()["checkout"]
    assert first == again
    assert len(await _orders(services)) == 1
    # The cart was emptied by the first: a new key now has nothing to order.
    empty = await client.gql(CHECKOUT, _checkout("CARD_STRIPE", key="double-submit-2"))
    assert empty.errors[0]["extensions"]["reason"] == "empty_cart"
    assert len(await _orders(services)) == 1


@pytest.mark.policy("P12")
async def test_p12_checkout_input_is_validated(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    incomplete = await client.gql(CHECKOUT, _checkout("CARD_STRIPE"))
    assert incomplete.errors[0]["extensions"]["reason"] == "profile_incomplete"
    (await client.gql(UPDATE_PROFILE, {"input": {**COMPLETE_PROFILE, "phone": "08-123 456 78"}})).ok()
    swish = await client.gql(CHECKOUT, _checkout("SWISH"))
    assert swish.errors[0]["extensions"]["reason"] == "swish_number_missing"
    assert (await client.gql(CHECKOUT, _checkout("SWISH", swishNumber="08-123 456 78"))).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(CHECKOUT, _checkout("CARD_STRIPE", key="short"))).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(CHECKOUT, _checkout("BITCOIN"))).codes == ["BAD_USER_INPUT"]
    assert await _orders(services) == []
    order = (await client.gql(CHECKOUT, _checkout("SWISH", swishNumber="0701234567"))).ok()["checkout"]
    assert order["contact"]["phone"] == "+46701234567" and order["status"] == "PAID"


@pytest.mark.policy("P12")
async def test_p12_checkout_and_history_need_a_login(client: StorefrontClient, catalogue: dict) -> None:
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    assert (await client.gql(CHECKOUT, _checkout("CARD_STRIPE"))).codes == ["UNAUTHENTICATED"]
    assert (await client.gql(MY_ORDERS, {"first": 5})).codes == ["UNAUTHENTICATED"]
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 1  # nothing lost


@pytest.mark.policy("P12")
async def test_p12_order_history_is_paginated_newest_first_with_capped_pages(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    order_ids = await seed_orders(services, customer_id, 7, lines=2)
    (await login(client, unique_email)).ok()
    seen: list[str] = []
    after = None
    while True:
        page = (await client.gql(MY_ORDERS, {"first": 3, "after": after})).ok()["myOrders"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [encode_id("Order", order_id) for order_id in reversed(order_ids)]
    assert (await client.gql(MY_ORDERS, {"first": 101})).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(MY_ORDERS, {"first": 0})).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(MY_ORDERS, {"first": 2, "after": "bm90LWEtY3Vyc29y"})).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(MY_ORDERS, {"first": 100})).ok()["myOrders"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.policy("P12")
async def test_p12_customer_a_cannot_read_customer_bs_orders_by_any_id(
    app: Starlette, client: StorefrontClient, services: Services, unique_email: str
) -> None:
    a = await create_customer(services, unique_email)
    b = await create_customer(services, "b." + unique_email)
    (a_order,) = await seed_orders(services, a, 1)
    (b_order,) = await seed_orders(services, b, 1)
    (await login(client, unique_email)).ok()
    query = "query($id: ID!) { order(id: $id) { number contact { email } } }"
    assert (await client.gql(query, {"id": encode_id("Order", a_order)})).ok()["order"]["number"]
    for probe in (encode_id("Order", b_order), encode_id("Order", uuid.uuid4()), encode_id("Product", b_order),
                  "not-an-id", str(b_order), "882e6c82-8271-48c1-9698-982629505d33"):  # the last passes for a card
        response = await client.gql(query, {"id": probe})
        if contains_card_number(probe):
            # A random UUID's digits sometimes pass for a card number (about 1 in 180): the input guard then
            # refuses the value before anything is read, which reveals no more than the null.
            assert response.codes == ["BAD_USER_INPUT"] and response.body["data"] is None, probe
        else:
            assert response.body == {"data": {"order": None}}, probe
    history = (await client.gql(MY_ORDERS, {"first": 10})).ok()["myOrders"]["edges"]
    assert [edge["node"]["id"] for edge in history] == [encode_id("Order", a_order)]


@pytest.mark.policy("P12")
async def test_p12_an_order_history_page_costs_the_same_queries_for_5_and_50_orders(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    counts = {}
    for size in (5, 50):
        email = f"{size}.{unique_email}"
        customer_id = await create_customer(services, email)
        await seed_orders(services, customer_id, size, lines=5)
        (await login(client, email)).ok()
        (await client.gql(MY_ORDERS, {"first": 50})).ok()  # warm: the session's last-seen touch is done
        with count_statements(services) as statements:
            page = (await client.gql(MY_ORDERS, {"first": 50})).ok()["myOrders"]
        assert len(page["edges"]) == size and all(len(e["node"]["lines"]) == 5 for e in page["edges"])
        counts[size] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    assert counts[5] == counts[50] <= 3, counts


@pytest.mark.policy("P12")
async def test_p12_concurrent_double_submits_give_one_order(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    import asyncio

    customer_id = await _shopper(client, services, unique_email)
    data = {"payment_method": "CARD_STRIPE", "idempotency_key": "concurrent-submit"}
    first, second = await asyncio.gather(
        services.orders.checkout(customer_id, data, "203.0.113.1"),
        services.orders.checkout(customer_id, data, "203.0.113.1"),
    )
    assert first.id == second.id
    assert len(await _orders(services)) == 1


class _FailingProvider:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def start_payment(self, request: object) -> object:
        raise self.error


@pytest.mark.policy("P12")
@pytest.mark.parametrize("failure", ["refused", "crashed"])
async def test_p12_a_failure_half_way_through_checkout_leaves_no_trace(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str,
    monkeypatch: pytest.MonkeyPatch, failure: str,
) -> None:
    from shop_privacy.payments.providers import PaymentFailed, PaymentMethod

    await _shopper(client, services, unique_email)
    error = PaymentFailed() if failure == "refused" else RuntimeError("provider adapter bug")
    monkeypatch.setitem(services.orders._providers, PaymentMethod.CARD_STRIPE, _FailingProvider(error))
    response = await client.gql(CHECKOUT, _checkout("CARD_STRIPE"))
    assert response.codes == (["SERVICE_UNAVAILABLE"] if failure == "refused" else ["INTERNAL_SERVER_ERROR"])
    assert await _orders(services) == []
    async with services.db.reader() as session:
        assert (await session.exec(select(func.count()).select_from(OrderLine))).scalar_one() == 0  # type: ignore[call-overload]
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 2  # the cart is untouched


@pytest.mark.policy("P08")
def test_p08_domain_lines_and_their_registrant_data_are_declared_for_the_contract() -> None:
    from shop_privacy.privacy.declarations import PersonalData
    from shop_privacy.privacy.purposes import PURPOSES, LegalBasis
    from shop_privacy.privacy.recipients import RECIPIENTS
    from shop_privacy.storage.columns import PRIVACY_INFO_KEY

    domain = OrderLine.__table__.columns["domain_name"].info[PRIVACY_INFO_KEY]
    assert isinstance(domain, PersonalData)
    assert domain.categories == ("user.behavior.purchase_history.domain_name",)
    assert "order_fulfilment" in domain.purposes
    assert PURPOSES["order_fulfilment"].legal_basis is LegalBasis.CONTRACT
    # The registrant is the order's contact, declared for delivering the order, domain registration included.
    for column in ("first_name", "last_name", "email", "phone", "company_name", "address_street"):
        declaration = Order.__table__.columns[column].info[PRIVACY_INFO_KEY]
        assert "order_fulfilment" in declaration.purposes, column
    registry = RECIPIENTS["domain_registry"]
    assert registry.purposes == ("order_fulfilment",)
    assert "user.behavior.purchase_history.domain_name" in registry.categories


@pytest.mark.policy("P13")
async def test_p13_an_order_paid_at_checkout_has_the_payment_in_its_history(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str
) -> None:
    await _shopper(client, services, unique_email)
    (await client.gql(CHECKOUT, _checkout("CARD_STRIPE"))).ok()
    (await client.gql(ADD_TO_CART, {"input": {"productId": (await product_ids(client))["HOSTING-BUSINESS"]}})).ok()
    (await client.gql(CHECKOUT, _checkout("INVOICE", "checkout-key-0002", organisationNumber="5560360793"))).ok()
    async with services.db.read() as session:
        events = (await session.exec(select(OrderEvent.order_id, OrderEvent.transition, OrderEvent.from_status,
                                            OrderEvent.to_status, OrderEvent.provider))).all()
        orders = {o.payment_method: o for o in (await session.exec(select(Order))).scalars().all()}  # type: ignore[call-overload]
    card, invoice = orders["CARD_STRIPE"], orders["INVOICE"]
    assert card.status == "PAID" and invoice.status == "PENDING_PAYMENT"
    # The card payment the provider authorised at checkout; nothing for the invoice, which is not paid yet.
    assert [tuple(e) for e in events] == [(card.id, "pay", "PENDING_PAYMENT", "PAID", "stripe")]
