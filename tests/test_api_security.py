"""Secure defaults of the GraphQL endpoint: limits, no batching, POST only, no-store, masked errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.applications import Starlette

from shop_privacy.services import Services

from .conftest import PRODUCTION_READY, client_with, make_settings
from .helpers import ME, StorefrontClient, create_customer, login

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]


async def test_p21_every_graphql_answer_is_no_store_and_carries_a_request_id(client: StorefrontClient) -> None:
    response = await client.gql(ME)
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["x-request-id"]) >= 8
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_p21_queries_over_get_and_batches_are_refused_with_json_errors(client: StorefrontClient) -> None:
    get = await client.http.get("/graphql", params={"query": "{ me { id } }"})
    assert get.status_code in {400, 405}
    assert get.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    batch = await client.http.post("/graphql", json=[{"query": "{ me { id } }"}, {"query": "{ cart { id } }"}])
    assert batch.status_code == 400 and batch.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    form = await client.http.post("/graphql", data={"query": "{ me { id } }"})
    assert form.status_code == 400 and form.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    broken = await client.http.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_p21_huge_bodies_are_refused_before_they_are_read(client: StorefrontClient) -> None:
    response = await client.http.post("/graphql", content=b"x" * 300_000, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_p21_alias_and_token_limits(client: StorefrontClient, settings) -> None:  # noqa: ANN001
    within = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(settings.max_aliases)) + " }"
    assert (await client.gql(within)).ok()
    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(settings.max_aliases + 1)) + " }"
    assert (await client.gql(aliases)).codes == ["GRAPHQL_VALIDATION_FAILED"]
    tokens = "{ " + " ".join("me { id }" for _ in range(settings.max_tokens // 3)) + " }"
    response = await client.gql(tokens)
    assert response.data is None
    assert response.codes and response.codes[0] in {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}


async def test_p21_query_depth_is_limited(
    database_url: str, tmp_path: Path
) -> None:
    async with client_with(database_url, tmp_path, max_query_depth=3) as client:
        assert (await client.gql("{ products(first: 1) { edges { cursor } } }")).ok()
        deep = await client.gql("{ products(first: 1) { edges { node { unitPrice { net { currency } } } } } }")
        assert deep.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_p21_production_turns_off_introspection_graphiql_and_field_suggestions(
    database_url: str, tmp_path: Path
) -> None:
    async with client_with(database_url, tmp_path, base_url="https://shop.example", **PRODUCTION_READY) as client:
        introspection = await client.gql("{ __schema { types { name } } }")
        assert introspection.data is None and set(introspection.codes) == {"GRAPHQL_VALIDATION_FAILED"}
        ide = await client.http.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
        typo = await client.gql("{ mee { id } }")
        assert "Did you mean" not in typo.errors[0]["message"]


async def test_development_offers_graphiql_and_introspection(client: StorefrontClient) -> None:
    ide = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    assert (await client.gql("{ __schema { queryType { name } } }")).ok()


def test_production_refuses_to_start_without_a_real_secret_key(database_url: str, tmp_path: Path) -> None:
    from pydantic import ValidationError

    from shop_privacy.settings import DEVELOPMENT_SECRET_KEY

    for key in (None, "short", DEVELOPMENT_SECRET_KEY):
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            make_settings(database_url, tmp_path, environment="production", smtp_url="smtp://m:587", secret_key=key)


async def test_unexpected_errors_are_masked_and_logged_without_personal_data(
    app: Starlette, client: StorefrontClient, services: Services, unique_email: str,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError(f"database exploded while reading {unique_email}")

    monkeypatch.setattr(services.profiles, "get", broken)
    with caplog.at_level(logging.INFO):
        response = await client.gql(ME)
    assert response.status == 200
    (error,) = response.errors
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in str(response.body) and unique_email not in str(response.body)
    assert "RuntimeError" in caplog.text and unique_email not in caplog.text


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ products(first: \"many\") { edges { cursor } } }", {}),
        ("query($f: Int!) { products(first: $f) { edges { cursor } } }", {"f": "x"}),
        ("query($f: Int!) { products(first: $f) { edges { cursor } } }", {"f": 2**40}),
        ("{ products(first: 5, after: \"%%%\") { edges { cursor } } }", {}),
        ("mutation { addToCart(input: {productId: \"x\", quantity: -1}) { id } }", {}),
        ("mutation { login(input: {email: \"\", password: \"\"}) { sessionToken } }", {}),
        ('mutation { register(input: {email: "a", password: "b", firstName: "", lastName: ""}) { accepted } }', {}),
        ("mutation { requestPasswordReset(email: \"not-an-email\") { accepted } }", {}),
        ("mutation { resetPassword(input: {token: \"x\", newPassword: \"y\"}) }", {}),
        ("mutation { verifyEmail(token: \"" + "x" * 600 + "\", password: \"x\") { cartMerged } }", {}),
        ("mutation { confirmEmailChange(token: \"x.y.z\") }", {}),
        ("{ nope }", {}),
        ("{", {}),
    ],
)
async def test_bad_input_gets_a_coded_graphql_error_never_a_500(
    client: StorefrontClient, query: str, variables: dict[str, object]
) -> None:
    response = await client.gql(query, variables)
    assert response.status == 200, response.body
    expected = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "NOT_FOUND",
                "INVALID_CREDENTIALS"}
    assert response.errors and set(response.codes) <= expected, response.body
