"""The whole storefront journey over HTTP: register, cart before login, login merges, checkout, history."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from .helpers import (
    ADD_TO_CART,
    CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    LOGOUT,
    MY_ORDERS,
    UPDATE_PROFILE,
    Outbox,
    StorefrontClient,
    login,
    product_ids,
    register_and_verify,
)

pytestmark = pytest.mark.anyio


@pytest.mark.policy("P12")
@pytest.mark.policy("P15")
async def test_p12_p15_register_cart_before_login_merge_checkout_and_history(
    client: StorefrontClient, outbox: Outbox, catalogue: dict[str, uuid.UUID], unique_email: str
) -> None:
    products = await product_ids(client)
    await register_and_verify(client, outbox, unique_email)
    # The account's own cart: one .se domain.
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"], "domainName": "exempel.se"}})).ok()
    assert (await client.gql(LOGOUT)).ok()["logout"] is True

    # Shopping anonymously: the first add sets the signed cart cookie.
    anonymous = await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-START"], "quantity": 3}})
    assert anonymous.ok()["addToCart"]["itemCount"] == 3
    cart_cookie = client.http.cookies.get("sp_cart")
    assert cart_cookie and "." in cart_cookie  # signed by itsdangerous
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["DOMAIN-SE"], "domainName": "exempel.se"}})).ok()

    # Logging in merges: quantities add up, one cart remains.
    logged_in = (await login(client, unique_email)).ok()["login"]
    assert logged_in["cartMerged"] is True
    cart = (await client.gql(CART)).ok()["cart"]
    quantities = {(line["product"]["sku"], line["domainName"]): line["quantity"] for line in cart["lines"]}
    assert quantities == {("DOMAIN-SE", "exempel.se"): 2, ("HOSTING-START", None): 3}
    assert client.http.cookies.get("sp_cart") is None  # the anonymous cart is gone

    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    order = (await client.gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE",
                                                    "idempotencyKey": "first-order-0001"}})).ok()["checkout"]
    # 2 × 159.00 + 3 × 49.00 = 465.00 net, 25 % VAT.
    assert order["total"] == {"net": {"minorUnits": 46_500}, "vat": {"minorUnits": 11_625},
                              "gross": {"minorUnits": 58_125}}
    assert order["status"] == "PAID" and order["paymentReference"].startswith("pi_sandbox_")
    assert (await client.gql(CART)).ok()["cart"]["lines"] == []

    history = (await client.gql(MY_ORDERS, {"first": 10})).ok()["myOrders"]
    assert [edge["node"]["number"] for edge in history["edges"]] == [order["number"]]
    assert sorted(line["sku"] for line in history["edges"][0]["node"]["lines"]) == ["DOMAIN-SE", "HOSTING-START"]


@pytest.mark.policy("P12")
async def test_p12_app_works_mounted_under_a_path_prefix(
    app: Starlette, catalogue: dict[str, uuid.UUID]
) -> None:
    shop = Starlette(routes=[Mount("/shop", app=app)])
    transport = httpx.ASGITransport(app=shop)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        client = StorefrontClient(http, path="/shop/graphql")
        products = (await client.gql("{ products(first: 2) { edges { node { sku } } } }")).ok()
        assert [e["node"]["sku"] for e in products["products"]["edges"]] == ["DOMAIN-SE", "DOMAIN-COM"]
        assert (await http.get("/shop/health")).json() == {"status": "ok"}
