"""The fast read path (docs/performance.md), P12: customers see their earlier orders, quickly.

Trusted documents (sent by id, refused when untrusted), the order page read in one transaction with its
lines only when asked for, the document caches, and the garbage collector tuned at start-up.
"""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from strawberry.extensions.validation_cache import _get_validate_cache

from shop_privacy.app import create_app
from shop_privacy.schema.core.schema import DOCUMENT_CACHE_SIZE
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings, SettingsError
from shop_privacy.storage.tables import Customer

from .conftest import client_with, make_settings
from .helpers import (
    MY_ORDERS,
    PRODUCTS,
    REGISTER,
    StorefrontClient,
    count_statements,
    create_customer,
    login,
    seed_orders,
    verbs,
)

pytestmark = pytest.mark.anyio

PAGE = {"first": 10}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(tmp_path: Path, *documents: str) -> Path:
    """What the storefront's build writes: each document's SHA-256 -> its text."""
    path = tmp_path / "trusted-documents.json"
    path.write_text(json.dumps({_hash(text): text for text in documents}), encoding="utf-8")
    return path


async def _post(client: StorefrontClient, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    response = await client.http.post(client.path, json=body)
    return response.status_code, response.json()


def _code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list) and len(errors) == 1, body
    return str(errors[0]["extensions"]["code"])


# Trusted documents


@pytest.mark.policy("P12")
async def test_p12_a_trusted_document_is_served_by_document_id_and_by_persisted_query_hash(
    database_url: str, tmp_path: Path, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await seed_orders(services, customer_id, 3, lines=2)
    async with client_with(database_url, tmp_path, trusted_documents_file=_manifest(tmp_path, MY_ORDERS)) as client:
        (await login(client, unique_email)).ok()
        by_text = (await client.gql(MY_ORDERS, PAGE)).ok()
        status, by_id = await _post(client, {"documentId": f"sha256:{_hash(MY_ORDERS)}", "variables": PAGE})
        assert status == 200 and by_id == {"data": by_text}
        status, by_hash = await _post(client, {"variables": PAGE, "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": _hash(MY_ORDERS)}}})
        assert status == 200 and by_hash == {"data": by_text}
        assert len(by_text["myOrders"]["edges"]) == 3


@pytest.mark.policy("P12")
async def test_p12_an_unknown_document_id_or_text_that_does_not_match_its_id_is_refused(
    database_url: str, tmp_path: Path, catalogue: dict
) -> None:
    async with client_with(database_url, tmp_path, trusted_documents_file=_manifest(tmp_path, MY_ORDERS)) as client:
        status, body = await _post(client, {"documentId": f"sha256:{_hash(PRODUCTS)}"})
        assert (status, _code(body)) == (400, "PERSISTED_QUERY_NOT_FOUND")
        status, body = await _post(client, {"documentId": "not-a-hash"})
        assert (status, _code(body)) == (400, "PERSISTED_QUERY_NOT_FOUND")
        status, body = await _post(client, {"query": PRODUCTS, "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": _hash(MY_ORDERS)}}})
        assert (status, _code(body)) == (400, "BAD_REQUEST")
        # Without the trusted-only setting, other documents are still served as text.
        assert (await client.gql(PRODUCTS)).ok()["products"]["edges"]


@pytest.mark.policy("P12")
async def test_p12_trusted_documents_only_refuses_every_other_document_before_it_runs(
    database_url: str, tmp_path: Path, services: Services, catalogue: dict, unique_email: str
) -> None:
    manifest = _manifest(tmp_path, MY_ORDERS, PRODUCTS)
    async with client_with(database_url, tmp_path, trusted_documents_file=manifest,
                           trusted_documents_only=True) as client:
        assert (await client.gql(PRODUCTS)).ok()["products"]["edges"]  # registered: served as text too
        status, body = await _post(client, {"documentId": _hash(PRODUCTS)})  # the bare hash is an id too
        assert status == 200 and body["data"]["products"]["edges"]
        refused = await client.gql(REGISTER, {"input": {"email": unique_email}})
        assert (refused.status, refused.codes) == (400, ["UNTRUSTED_DOCUMENT"])
        status, body = await _post(client, {"query": PRODUCTS + " "})  # not byte for byte the registered text
        assert (status, _code(body)) == (400, "UNTRUSTED_DOCUMENT")
    async with services.db.read() as session:  # the refused mutation did not run
        count = (await session.exec(select(func.count()).select_from(Customer)  # type: ignore[call-overload]
                                    .where(Customer.email == unique_email))).one()
    assert count == (0,)


@pytest.mark.policy("P12")
def test_p12_a_stale_manifest_or_trusted_only_without_one_stops_the_start(database_url: str, tmp_path: Path) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({_hash(PRODUCTS): MY_ORDERS}), encoding="utf-8")
    for overrides, problem in (
        ({"trusted_documents_file": stale}, "is not the SHA-256 of its document"),
        ({"trusted_documents_file": tmp_path / "missing.json"}, "must name a readable JSON file"),
        ({"trusted_documents_only": True}, "must name the trusted documents file"),
    ):
        settings = make_settings(database_url, tmp_path, **overrides)
        with pytest.raises(SettingsError) as refused:
            create_app(settings, services=build_services(settings))
        assert refused.value.problems[0].startswith("SHOP_PRIVACY_TRUSTED_DOCUMENTS_FILE: ")
        assert problem in str(refused.value)


# The order page: one read transaction, lines only when asked for


MY_ORDERS_WITHOUT_LINES = """query($first: Int!) { myOrders(first: $first) { edges { node { id number } } } }"""
MY_ORDERS_LINES_IN_FRAGMENT = """query($first: Int!) { myOrders(first: $first) { edges { node { ...Shown } } } }
fragment Shown on Order { id lines { sku quantity } }"""


@pytest.mark.policy("P12")
async def test_p12_the_session_the_page_and_its_lines_are_read_in_one_transaction_lines_only_when_asked(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await seed_orders(services, customer_id, 4, lines=3)
    (await login(client, unique_email)).ok()
    (await client.gql(MY_ORDERS, PAGE)).ok()  # the session's last-seen write is done
    sqlite = services.db.url.is_sqlite
    with count_statements(services) as sent:
        page = (await client.gql(MY_ORDERS, PAGE)).ok()["myOrders"]
    seen = verbs(sent)
    assert [len(edge["node"]["lines"]) for edge in page["edges"]] == [3, 3, 3, 3]
    # session, orders, lines; on SQLite the package's own BEGIN shows: one, for all three
    assert seen == (["BEGIN"] if sqlite else []) + ["SELECT"] * 3, seen
    with count_statements(services) as sent:
        (await client.gql(MY_ORDERS_WITHOUT_LINES, PAGE)).ok()
    seen = verbs(sent)
    assert seen.count("SELECT") == 2, seen
    with count_statements(services) as sent:
        in_fragment = (await client.gql(MY_ORDERS_LINES_IN_FRAGMENT, PAGE)).ok()["myOrders"]
    seen = verbs(sent)
    assert seen.count("SELECT") == 3, seen
    assert [e["node"]["lines"] for e in in_fragment["edges"]] == [e["node"]["lines"] for e in page["edges"]]


@pytest.mark.policy("P12")
async def test_p12_an_order_read_alone_shows_the_same_lines_as_in_the_page(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    await seed_orders(services, customer_id, 2, lines=4)
    (await login(client, unique_email)).ok()
    page = (await client.gql(MY_ORDERS, PAGE)).ok()["myOrders"]["edges"]
    for edge in page:
        alone = (await client.gql("query($id: ID!) { order(id: $id) { id lines { sku quantity } } }",
                                  {"id": edge["node"]["id"]})).ok()["order"]
        assert alone["lines"] == edge["node"]["lines"] and len(alone["lines"]) == 4


# Caches and the collector


@pytest.mark.policy("P12")
async def test_p12_a_repeated_document_is_validated_once_and_the_limits_still_refuse(
    client: StorefrontClient, settings: Settings
) -> None:
    cache = _get_validate_cache(DOCUMENT_CACHE_SIZE)
    query = "query Cached { products(first: 3) { edges { node { sku } } } }"
    (await client.gql(query)).ok()
    hits = cache.cache_info().hits
    (await client.gql(query)).ok()
    # A hit: the depth and alias rules are the same classes on every request, else the key would differ.
    assert cache.cache_info().hits == hits + 1
    too_many = "{ " + " ".join(f"a{i}: products(first: 1) {{ edges {{ cursor }} }}"
                                for i in range(settings.max_aliases + 1)) + " }"
    for _ in range(2):  # refused the first time and, from the cache, the second
        refused = await client.gql(too_many)
        assert refused.codes == ["GRAPHQL_VALIDATION_FAILED"] and refused.data is None


@pytest.mark.policy("P12")
async def test_p12_after_start_up_the_collector_leaves_the_start_up_objects_alone(
    app: Starlette, settings: Settings
) -> None:
    assert settings.gc_generation0_threshold > 700  # CPython's default
    assert gc.get_threshold()[0] == settings.gc_generation0_threshold
    assert gc.get_freeze_count() > 10_000  # the schema, the mappers, the declarations
