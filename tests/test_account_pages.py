"""Serving the reference account pages (docs/account-pages.md): in development, never in production unless
the shop asks for them, off when told; under a Content-Security-Policy that lets only this origin's
scripts run; the pages' files ship inside the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from shop_privacy.web.account_pages import PAGE_PATHS, PAGES_DIRECTORY

from .conftest import PRODUCTION_READY, client_with
from .helpers import StorefrontClient

pytestmark = pytest.mark.anyio


async def _status(client: StorefrontClient, path: str) -> int:
    return (await client.http.get(path)).status_code


@pytest.mark.policy("P12")
@pytest.mark.policy("P21")
async def test_p12_p21_the_pages_are_served_in_development_under_a_strict_content_security_policy(
    client: StorefrontClient,
) -> None:
    for page in ("", "login", "verify-email", "my-data"):
        response = await client.http.get(f"/account/{page}?token=abc")
        assert response.status_code == 200 and '<script type="module" src="static/app.js">' in response.text
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert response.headers["cache-control"] == "no-store"  # mailed links carry their token in the address
    script = await client.http.get("/account/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert await _status(client, "/account/static/pages/my-data.js") == 200
    assert await _status(client, "/account/no-such-page") == 404
    assert await _status(client, "/account/static/../../settings.py") == 404


@pytest.mark.policy("P21")
async def test_p21_production_serves_the_pages_only_when_the_shop_asks(database_url: str, tmp_path: Path) -> None:
    async with client_with(database_url, tmp_path, base_url="https://testserver", **PRODUCTION_READY) as production:
        assert await _status(production, "/account/login") == 404
        assert await _status(production, "/account/static/app.js") == 404
    async with client_with(database_url, tmp_path, base_url="https://testserver", **PRODUCTION_READY,
                       account_pages=True) as asked:
        assert await _status(asked, "/account/login") == 200
    async with client_with(database_url, tmp_path, account_pages=False) as switched_off:
        assert await _status(switched_off, "/account/login") == 404
        assert (await switched_off.gql("{ __typename }")).ok() == {"__typename": "Query"}


@pytest.mark.policy("P12")
def test_p12_every_page_the_mails_link_to_is_a_page_and_the_files_ship_in_the_package() -> None:
    # The account mails link to storefront_url + these paths (shop_privacy/accounts, rights).
    assert {"verify-email", "reset-password", "confirm-email", "stop-email-change", "my-data",
            "forgot-password"} <= PAGE_PATHS
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    shipped = {path.suffix for path in PAGES_DIRECTORY.rglob("*") if path.is_file()}
    assert shipped == {".html", ".js", ".css"}
    assert all(f'"*{suffix}"' in pyproject for suffix in shipped)
    for module in PAGES_DIRECTORY.rglob("*.js"):
        assert "innerHTML" not in module.read_text(encoding="utf-8"), module  # values never become markup
