"""Generated storefront operations, as customer B and as an anonymous visitor, with customer A's data
present (P06, P14, P21): never a 5xx or an internal error, and never a value of A's."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import from_schema
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer

from ..conftest import client_for
from ..helpers import StorefrontClient, random_email
from .support import SECRETS, bounded, leaked, seed_customer_a, server_failures

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]

SDL = (Path(__file__).parents[2] / "schema.graphql").read_text()


@pytest.fixture
async def password_hash(services: Services) -> str:
    from ..helpers import PASSWORD

    return await services.hasher.hash(PASSWORD)


async def _customer_b(services: Services, password_hash: str) -> str:
    """A fresh customer B per example (an example may log B out or erase B), with a session."""
    async with services.db.transaction() as session:
        b = Customer(email=random_email("b"), password_hash=password_hash,
                     first_name="Bertil", last_name="Bengtsson", phone="+46701230000",
                     address_street="Bgatan 1", address_postal_code="111 11", address_city="Stockholm")
        session.add(b)
        await session.flush()
        logged_in = await services.authentication.start_session(session, b, client_ip=None, cart_token=None)
    return logged_in.token


@pytest.fixture
async def world(app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str):  # noqa: ANN201
    await seed_customer_a(services, password_hash)
    client = client_for(app, ip="198.51.100.77")
    yield client
    await client.http.aclose()


@pytest.mark.policy("P06")
@bounded
@given(document=from_schema(SDL), as_b=st.booleans())
async def test_p21_p06_generated_storefront_operations_never_fail_inside_nor_show_another_customers_data(
    world: StorefrontClient, services: Services, password_hash: str, document: str, as_b: bool
) -> None:
    headers = {"Authorization": f"Bearer {await _customer_b(services, password_hash)}"} if as_b else {}
    response = await world.http.post("/graphql", json={"query": document}, headers=headers)
    body = response.json()
    assert server_failures(response.status_code, body) == [], (document, body)
    assert leaked(body, SECRETS) == [], (document, body)
