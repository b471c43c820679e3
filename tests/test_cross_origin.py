"""A storefront on another origin: CORS for the listed origins, cookie sessions across them, and nothing
for an origin that is not listed (no CORS headers, no cookie-carrying writes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop_privacy.app import create_app
from shop_privacy.services import build_services

from .conftest import PRODUCTION_READY, client_for, make_settings
from .helpers import LOGIN, ME, PASSWORD, UPDATE_PROFILE, StorefrontClient, create_customer

pytestmark = pytest.mark.anyio

API = "https://api.butik-test.se"
STOREFRONT = "https://www.butik-test.se"
SIBLING = "https://kampanj.butik-test.se"  # same site, so a browser would send it the Lax cookies
FOREIGN = "https://elak.example.net"


def _cors_headers(headers: object) -> dict[str, str]:
    return {name: value for name, value in dict(headers).items() if name.lower().startswith("access-control-")}  # type: ignore[call-overload]


@pytest.fixture
async def api(database_url: str, tmp_path: Path, unique_email: str) -> AsyncIterator[StorefrontClient]:
    """The API in production at API, with STOREFRONT listed, and a customer (unique_email) to log in as."""
    listed = {"api_url": API, "storefront_url": STOREFRONT, "cors_allowed_origins": STOREFRONT}
    settings = make_settings(database_url, tmp_path, **{**PRODUCTION_READY, **listed})
    services = build_services(settings)
    await create_customer(services, unique_email)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        client = client_for(app, base_url=API)
        yield client
        await client.http.aclose()
    await services.close()


async def _log_in(api: StorefrontClient, email: str) -> None:
    api.http.headers["origin"] = STOREFRONT
    logged_in = await api.gql(LOGIN, {"input": {"email": email, "password": PASSWORD}})
    assert logged_in.ok()["login"]["customer"]["email"] == email
    assert any(cookie.startswith("__Host-sp_session=") and "Secure" in cookie and "SameSite=lax" in cookie
               for cookie in logged_in.headers.get_list("set-cookie"))


def _preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type"}


@pytest.mark.policy("P21")
async def test_p21_preflight_from_a_listed_origin_allows_credentials_for_that_origin_only(
    api: StorefrontClient,
) -> None:
    answer = await api.http.options("/graphql", headers=_preflight(STOREFRONT))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == STOREFRONT
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "content-type" in answer.headers["access-control-allow-headers"].lower()


@pytest.mark.policy("P21")
@pytest.mark.parametrize("origin", [SIBLING, FOREIGN, "null", "http://www.butik-test.se"])
async def test_p21_preflight_from_an_unlisted_origin_gets_no_cors_headers(
    api: StorefrontClient, origin: str
) -> None:
    answer = await api.http.options("/graphql", headers=_preflight(origin))
    assert answer.status_code == 403
    assert _cors_headers(answer.headers) == {}
    assert answer.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "origin_not_allowed"}


@pytest.mark.policy("P21")
async def test_p21_a_listed_storefront_uses_a_cookie_session_end_to_end(
    api: StorefrontClient, unique_email: str
) -> None:
    await _log_in(api, unique_email)
    me = await api.gql(ME)
    assert me.ok()["me"]["email"] == unique_email
    assert me.headers["access-control-allow-origin"] == STOREFRONT
    assert me.headers["access-control-allow-credentials"] == "true"
    assert "X-Request-ID" in me.headers["access-control-expose-headers"]
    assert "Origin" in me.headers["vary"]
    changed = await api.gql(UPDATE_PROFILE, {"input": {"firstName": "Berit"}})
    assert changed.ok()["updateProfile"]["customer"]["firstName"] == "Berit"


@pytest.mark.policy("P21")
@pytest.mark.parametrize("origin", [SIBLING, FOREIGN, "null"])
async def test_p21_an_unlisted_origin_cannot_act_with_the_customers_cookies(
    api: StorefrontClient, unique_email: str, origin: str
) -> None:
    await _log_in(api, unique_email)
    api.http.headers["origin"] = origin
    refused = await api.gql(UPDATE_PROFILE, {"input": {"firstName": "Elak"}})
    assert refused.status == 403 and refused.codes == ["FORBIDDEN"]
    assert _cors_headers(refused.headers) == {}
    # A body a form could send without a preflight: refused the same way.
    form = await api.http.post("/graphql", content=b'{"query": "mutation { logout }"}',
                               headers={"content-type": "text/plain"})
    assert form.status_code == 403 and _cors_headers(form.headers) == {}
    # Nothing happened: the session still works from the listed storefront, the name is unchanged.
    api.http.headers["origin"] = STOREFRONT
    assert (await api.gql(ME)).ok()["me"]["firstName"] == "Anna"


@pytest.mark.policy("P21")
async def test_p21_an_unlisted_origin_without_cookies_acts_as_nobody_and_gets_no_cors_headers(
    api: StorefrontClient,
) -> None:
    answer = await api.gql(ME, headers={"origin": FOREIGN})
    assert answer.status == 200 and answer.data == {"me": None}
    assert _cors_headers(answer.headers) == {}


@pytest.mark.policy("P21")
async def test_p21_same_origin_requests_need_no_cors(api: StorefrontClient, unique_email: str) -> None:
    await _log_in(api, unique_email)
    for origin in (API, "http://api.butik-test.se"):  # api_url, and the Host it was sent to (scheme aside)
        api.http.headers["origin"] = origin
        answer = await api.gql(ME)
        assert answer.ok()["me"]["email"] == unique_email
        assert _cors_headers(answer.headers) == {}


@pytest.mark.policy("P21")
async def test_without_listed_origins_no_origin_gets_cors_headers(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    assert settings.cors_allowed_origins == ()
    services = build_services(settings)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        client = client_for(app)
        preflight = await client.http.options("/graphql", headers=_preflight(STOREFRONT))
        assert preflight.status_code == 403 and _cors_headers(preflight.headers) == {}
        catalogue = await client.http.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": STOREFRONT})
        assert catalogue.status_code == 200 and _cors_headers(catalogue.headers) == {}
        await client.http.aclose()
    await services.close()
