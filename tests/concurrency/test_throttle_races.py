"""Password guessing in parallel (P21): each attempt is reserved against the throttle before its
password is hashed, so 30 guesses at once get at most the limit checked, in one process or two."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette

from shop_privacy.services import Services

from ..conftest import client_for
from ..helpers import LOGIN, StorefrontClient
from .support import app_servers, at_once, shoppers

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]

WRONG = "Fel-Lösenord-Gissning-1"


async def _email(services: Services, password_hash: str) -> str:
    [[shopper]] = await shoppers(services, 1, password_hash=password_hash, complete=False)
    async with services.db.read() as session:
        from shop_privacy.storage.tables import Customer

        customer = await session.get(Customer, shopper.customer_id)
    assert customer is not None
    return customer.email


def _guess(client: StorefrontClient, email: str, index: int) -> object:
    # Each guess from its own address, so only the account's limit applies.
    return client.gql(LOGIN, {"input": {"email": email, "password": f"{WRONG}{index}"}},
                      headers={"X-Forwarded-For": f"198.51.100.{index}"})


async def test_p21_thirty_parallel_wrong_logins_get_at_most_the_limit_checked(
    app: Starlette, services: Services, password_hash: str
) -> None:
    email = await _email(services, password_hash)
    clients = [client_for(app, ip=f"198.51.100.{i}") for i in range(30)]
    answers = await at_once(_guess(client, email, i) for i, client in enumerate(clients))
    codes = [a.codes[0] for a in answers]  # type: ignore[attr-defined]
    limit = services.settings.login_failures_per_account
    assert codes.count("INVALID_CREDENTIALS") <= limit, codes
    assert codes.count("RATE_LIMITED") >= 30 - limit
    for client in clients:
        await client.http.aclose()


async def test_p21_parallel_guesses_through_two_app_processes_share_one_limit(
    database_url: str, tmp_path: Path, services: Services, password_hash: str
) -> None:
    email = await _email(services, password_hash)
    with app_servers(database_url, tmp_path, extra_env={"SHOP_PRIVACY_LOGIN_FAILURES_PER_ADDRESS": "1000"}) as servers:
        clients = [server.client() for server in servers]
        answers = await at_once(clients[i % 2].gql(LOGIN, {"input": {"email": email, "password": f"{WRONG}{i}"}})
                                for i in range(30))
        codes = [a.codes[0] for a in answers]
        assert codes.count("INVALID_CREDENTIALS") <= services.settings.login_failures_per_account, codes
        for client in clients:
            await client.http.aclose()
