"""Cart persistence (P15): server-side carts behind a signed cookie, checked input, no cross-cart access."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.storage.tables import Cart, CartLine

from .conftest import client_for
from .helpers import ADD_TO_CART, CART, Outbox, StorefrontClient, login, product_ids, register_and_verify

UPDATE_LINE = """mutation($input: UpdateCartLineInput!) {
  updateCartLine(input: $input) { itemCount lines { id quantity } } }"""
REMOVE_LINE = "mutation($id: ID!) { removeCartLine(lineId: $id) { itemCount } }"
CLEAR = "mutation { clearCart { itemCount lines { id } } }"

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P15")]


async def _count(services: Services, table: type) -> int:
    async with services.db.reader() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def test_p15_the_first_add_creates_a_server_side_cart_behind_a_signed_httponly_cookie(
    client: StorefrontClient, services: Services, catalogue: dict[str, uuid.UUID]
) -> None:
    products = await product_ids(client)
    response = await client.http.post("/graphql", json={"query": ADD_TO_CART, "variables": {
        "input": {"productId": products["SSL-DV"], "quantity": 2}}})
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("sp_cart=") and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    token = client.http.cookies["sp_cart"]
    async with services.db.reader() as session:
        carts = (await session.exec(select(Cart))).all()
    assert len(carts) == 1 and carts[0].customer_id is None
    assert carts[0].token_hash and token not in carts[0].token_hash  # only a hash of the random part
    # Persisted server-side: a new request with the cookie sees the same cart.
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 2
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"], "quantity": 1}})).ok()
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 3
    assert await _count(services, Cart) == 1


async def test_p15_a_forged_or_foreign_cart_token_reaches_no_cart(
    app: Starlette, client: StorefrontClient, services: Services, catalogue: dict[str, uuid.UUID]
) -> None:
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    real = client.http.cookies["sp_cart"]
    stranger = client_for(app, ip="198.51.100.20")
    for forged in (real[:-3] + "abc", "not-a-token", real.split(".")[0]):
        assert (await stranger.gql(CART, headers={"X-Cart-Token": forged})).ok()["cart"] is None
    # The real token works as a header too (server-side storefronts).
    assert (await stranger.gql(CART, headers={"X-Cart-Token": real})).ok()["cart"]["itemCount"] == 1
    # Adding with a forged token starts a new cart instead of touching the real one.
    (await stranger.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-PRO"]}},
                        headers={"X-Cart-Token": real[:-3] + "abc"})).ok()
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 1
    assert await _count(services, Cart) == 2
    await stranger.http.aclose()


async def test_p15_an_expired_cart_token_is_ignored(
    client: StorefrontClient, services: Services, catalogue: dict[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    monkeypatch.setattr(services.carts, "_token_max_age", -1)
    assert (await client.gql(CART)).ok()["cart"] is None


async def test_p15_cart_lines_change_and_go_and_other_carts_lines_are_not_found(
    app: Starlette, client: StorefrontClient, catalogue: dict[str, uuid.UUID]
) -> None:
    products = await product_ids(client)
    cart = (await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-PRO"], "quantity": 2}})).ok()
    line_id = cart["addToCart"]["lines"][0]["id"]
    changed = (await client.gql(UPDATE_LINE, {"input": {"lineId": line_id, "quantity": 5}})).ok()["updateCartLine"]
    assert changed["itemCount"] == 5

    stranger = client_for(app, ip="198.51.100.21")
    (await stranger.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-PRO"]}})).ok()
    assert (await stranger.gql(UPDATE_LINE, {"input": {"lineId": line_id, "quantity": 1}})).codes == ["NOT_FOUND"]
    assert (await stranger.gql(REMOVE_LINE, {"id": line_id})).codes == ["NOT_FOUND"]
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 5

    assert (await client.gql(REMOVE_LINE, {"id": line_id})).ok()["removeCartLine"]["itemCount"] == 0
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-PRO"], "quantity": 4}})).ok()
    assert (await client.gql(CLEAR)).ok()["clearCart"] == {"itemCount": 0, "lines": []}
    await stranger.http.aclose()


@pytest.mark.parametrize(
    ("extra", "code", "reason"),
    [
        ({"quantity": 0}, "BAD_USER_INPUT", "quantity"),
        ({"quantity": 1000}, "BAD_USER_INPUT", "quantity"),
        ({"domainName": "exempel.se"}, "BAD_USER_INPUT", "domain_not_needed"),
    ],
)
async def test_p15_cart_input_is_validated_and_nothing_is_written(
    client: StorefrontClient, services: Services, catalogue: dict[str, uuid.UUID],
    extra: dict[str, object], code: str, reason: str,
) -> None:
    products = await product_ids(client)
    response = await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-START"], **extra}})
    assert response.codes == [code] and response.errors[0]["extensions"]["reason"] == reason
    assert await _count(services, Cart) == 0 and await _count(services, CartLine) == 0


async def test_p15_domain_products_need_a_domain_under_their_tld(
    client: StorefrontClient, catalogue: dict[str, uuid.UUID]
) -> None:
    products = await product_ids(client)
    missing = await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"]}})
    assert missing.errors[0]["extensions"]["reason"] == "domain_required"
    wrong_tld = await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"], "domainName": "x.com"}})
    assert wrong_tld.errors[0]["extensions"]["reason"] == "domain_tld"
    invalid = await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"], "domainName": "-x-.se"}})
    assert invalid.codes == ["BAD_USER_INPUT"]
    ok = await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"], "domainName": "Räksmörgås.SE"}})
    assert ok.ok()["addToCart"]["lines"][0]["domainName"] == "räksmörgås.se"


async def test_p15_unknown_products_and_malformed_ids_are_not_found(
    client: StorefrontClient, catalogue: dict[str, uuid.UUID]
) -> None:
    from shop_privacy.schema.core.ids import encode_id

    for product_id in (encode_id("Product", uuid.uuid4()), "garbage", encode_id("Order", catalogue["SSL-DV"])):
        response = await client.gql(ADD_TO_CART, {"input": {"productId": product_id}})
        assert response.codes == ["NOT_FOUND"]


async def test_p15_merge_at_login_adds_quantities_caps_them_and_leaves_one_cart(
    app: Starlette, client: StorefrontClient, outbox: Outbox, services: Services,
    catalogue: dict[str, uuid.UUID], unique_email: str,
) -> None:
    products = await product_ids(client)
    await register_and_verify(client, outbox, unique_email)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-BASIC"], "quantity": 990}})).ok()
    browser = client_for(app, ip="198.51.100.22")
    (await browser.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-BASIC"], "quantity": 20}})).ok()
    (await browser.gql(ADD_TO_CART, {"input": {"productId": products["SSL-OV"]}})).ok()
    assert (await login(browser, unique_email)).ok()["login"]["cartMerged"] is True
    cart = (await browser.gql(CART)).ok()["cart"]
    assert {line["product"]["sku"]: line["quantity"] for line in cart["lines"]} == {"EMAIL-BASIC": 999, "SSL-OV": 1}
    async with services.db.reader() as session:
        carts = (await session.exec(select(Cart))).all()
    assert len(carts) == 1 and carts[0].token_hash is None
    # Logging in without an anonymous cart merges nothing.
    assert (await login(browser, unique_email)).ok()["login"]["cartMerged"] is False
    await browser.http.aclose()


async def test_p15_an_anonymous_cart_becomes_the_account_cart_when_the_account_has_none(
    client: StorefrontClient, outbox: Outbox, services: Services, catalogue: dict[str, uuid.UUID], unique_email: str
) -> None:
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    customer_id = await register_and_verify(client, outbox, unique_email)
    assert customer_id
    cart = (await client.gql(CART)).ok()["cart"]
    assert cart["itemCount"] == 1
    async with services.db.reader() as session:
        (row,) = (await session.exec(select(Cart))).all()
    assert row.customer_id is not None and row.token_hash is None


async def test_p15_each_customer_sees_only_their_own_cart(
    app: Starlette, client: StorefrontClient, outbox: Outbox, services: Services,
    catalogue: dict[str, uuid.UUID], unique_email: str,
) -> None:
    products = await product_ids(client)
    await register_and_verify(client, outbox, unique_email)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    other = client_for(app, ip="198.51.100.23")
    await register_and_verify(other, outbox, "other." + unique_email)
    assert (await other.gql(CART)).ok()["cart"] is None
    (await other.gql(ADD_TO_CART, {"input": {"productId": products["EMAIL-PRO"], "quantity": 3}})).ok()
    assert (await client.gql(CART)).ok()["cart"]["itemCount"] == 1
    assert (await other.gql(CART)).ok()["cart"]["itemCount"] == 3
    assert await _count(services, Cart) == 2
    await other.http.aclose()
