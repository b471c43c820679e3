"""A shop mounted in a host Starlette/FastAPI app: the same start-up checks whether or not the host runs the
shop's lifespan, a plugin whose table is missing stops the start, and declaration errors name the valid
values (issue 10)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from shop_privacy import cli
from shop_privacy.app import create_app
from shop_privacy.plugins import Plugin
from shop_privacy.privacy import purposes, retention, taxonomy
from shop_privacy.privacy.declarations import NOT_PERSONAL, Erasure, SubjectLink, personal
from shop_privacy.privacy.inventory import InventoryError
from shop_privacy.privacy.purposes import LegalBasis, Purpose, StaffRole
from shop_privacy.privacy.retention import RetentionRule
from shop_privacy.privacy.vocabulary import VocabularyConflict
from shop_privacy.services import Services
from shop_privacy.settings import Settings
from shop_privacy.shop import Shop
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.migrate import SchemaNotCurrent
from shop_privacy.storage.tables import Customer

PRODUCTS = "{ products(first: 1) { edges { node { sku } } } }"


def _notes_plugin(name: str, *, category: str = "user", purpose: str = "customer_service",
                  rule: str = "account") -> Plugin:
    """A plugin with one personal table and no migrations: nothing ever creates its table."""
    metadata = MetaData()
    Table(f"{name}_notes", metadata,
          Column("id", Uuid, primary_key=True, info={PRIVACY_INFO_KEY: NOT_PERSONAL}),
          Column("customer_id", Uuid, nullable=False, info={PRIVACY_INFO_KEY: SubjectLink()}),
          Column("note", String(500), info={PRIVACY_INFO_KEY: personal(
              categories=category, purposes=purpose, retention=rule, erasure=Erasure.DELETE,
              en="Note", sv="Anteckning")}))
    return Plugin(name, metadata=metadata)


def _host(events: list[str]) -> Starlette:
    """The shop's host app: its own routes and its own lifespan."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        events.append("host started")
        yield
        events.append("host stopped")

    async def home(_: Request) -> PlainTextResponse:
        return PlainTextResponse("the host's own page")

    return Starlette(routes=[Route("/", home)], lifespan=lifespan)


def _client(app: Starlette) -> httpx.AsyncClient:
    # httpx never runs a lifespan: what a request sees is what the host's server would give it.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.policy("P02")
@pytest.mark.anyio
async def test_p02_shop_mount_runs_the_start_up_checks_in_the_host_apps_lifespan(settings: Settings) -> None:
    events: list[str] = []
    host = _host(events)
    shop_app = Shop(settings=settings).mount(host, "/shop")
    assert not shop_app.state.startup.done
    async with host.router.lifespan_context(host), _client(host) as client:
        assert shop_app.state.startup.done and events == ["host started"]
        answer = await client.post("/shop/graphql", json={"query": PRODUCTS})
        assert answer.status_code == 200 and "errors" not in answer.json()
        assert (await client.get("/")).text == "the host's own page"
    assert events == ["host started", "host stopped"]


@pytest.mark.policy("P02")
@pytest.mark.anyio
async def test_p02_under_a_plain_mount_the_first_request_runs_the_start_up_checks(settings: Settings) -> None:
    shop_app = Shop(settings=settings).app()
    host = Starlette(routes=[Mount("/shop", app=shop_app)])
    try:
        async with host.router.lifespan_context(host), _client(host) as client:
            assert not shop_app.state.startup.done  # Starlette's Mount does not run the shop's lifespan
            answer = await client.post("/shop/graphql", json={"query": PRODUCTS})
            assert answer.status_code == 200 and shop_app.state.startup.done
    finally:
        await shop_app.state.services.close()


@pytest.mark.policy("P02")
@pytest.mark.anyio
async def test_p02_a_plugin_whose_table_does_not_exist_stops_the_start(settings: Settings) -> None:
    shop = Shop(settings=settings, plugins=[_notes_plugin("unmigrated")])
    host = _host([])
    shop.mount(host, "/shop")
    with pytest.raises(SchemaNotCurrent) as stopped:
        async with host.router.lifespan_context(host):
            pytest.fail("the host started without the plugin's table")
    assert "plugin 'unmigrated': table unmigrated_notes does not exist in the database" in str(stopped.value)

    # Mounted without the lifespan: nothing is served, and the answer says why in a way a probe understands.
    shop_app = shop.app()
    plain = Starlette(routes=[Mount("/shop", app=shop_app)])
    try:
        async with _client(plain) as client:
            for _ in range(2):
                refused = await client.post("/shop/graphql", json={"query": PRODUCTS})
                assert refused.status_code == 503
                assert refused.json() == {"status": "not_ready", "reason": "startup_failed"}
                assert refused.headers["x-content-type-options"] == "nosniff"
            # Liveness still answers: the process is up, and restarting it would not create the table.
            assert (await client.get("/shop/health")).json() == {"status": "ok"}
            assert (await client.get("/shop/ready")).status_code == 503
    finally:
        await shop_app.state.services.close()


@pytest.mark.policy("P02")
@pytest.mark.usefixtures("vocabulary")
def test_p02_declaration_errors_name_the_valid_categories_purposes_and_retention_rules(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = _notes_plugin("typo", category="user.contact.emial", purpose="customer_servce", rule="acount")
    with pytest.raises(InventoryError) as raised:
        Shop(settings=settings, plugins=[typo]).services()
    message = str(raised.value)
    assert "typo_notes.note: unknown category 'user.contact.emial'" in message
    assert "category 'user.contact.emial': did you mean 'user.contact.email'" in message
    assert "purpose 'customer_servce': did you mean 'customer_service'" in message
    assert "retention rule 'acount': did you mean 'account'" in message
    assert f"valid categories: {', '.join(taxonomy.CATEGORIES)}" in message
    assert f"valid purposes: {', '.join(purposes.PURPOSES)}" in message
    assert f"valid retention rules: {', '.join(retention.RETENTION_RULES)}" in message

    # The command line says the same, without a traceback, and exits 2 (could not run).
    monkeypatch.setitem(globals(), "typo_shop", Shop(settings=settings, plugins=[typo]))
    assert cli.main(["--app", f"{__name__}:typo_shop", "ropa"]) == 2
    error = capsys.readouterr().err
    assert "did you mean 'user.contact.email'" in error and "valid purposes:" in error
    assert "Traceback" not in error


@pytest.mark.policy("P02")
@pytest.mark.usefixtures("vocabulary")
def test_p02_a_plugin_adds_its_own_vocabulary_but_never_redefines_the_packages(settings: Settings) -> None:
    own = Plugin("tickets", categories={"user.support_request": "What the person wrote to support"},
                 purposes=[Purpose("support_tickets", LegalBasis.CONTRACT, frozenset({StaffRole.SUPPORT}),
                                   "Answering tickets", "Besvara ärenden")],
                 retention_rules=[RetentionRule("ticket", "closed_at", timedelta(days=730), "Two years",
                                                "Två år")])
    Shop(settings=settings, plugins=[own, _notes_plugin("tickets2", category="user.support_request",
                                                        purpose="support_tickets", rule="ticket")]).check_declarations()
    assert purposes.PURPOSES["support_tickets"].legal_basis is LegalBasis.CONTRACT

    payment_by_consent = Plugin("sly", purposes=[Purpose("payment", LegalBasis.CONSENT, frozenset(), "x", "x")])
    with pytest.raises(VocabularyConflict, match="purpose 'payment' is already defined differently"):
        Shop(settings=settings, plugins=[payment_by_consent]).check_declarations()
    assert purposes.PURPOSES["payment"].legal_basis is LegalBasis.CONTRACT
    orphan = Plugin("orphan", categories={"shop.thing": "A thing"})
    with pytest.raises(VocabularyConflict, match="category 'shop.thing' must extend a known category; known: user,"):
        Shop(settings=settings, plugins=[orphan]).check_declarations()


def test_a_plugin_name_must_be_usable_in_its_version_table_name() -> None:
    with pytest.raises(ValueError, match="plugin name 'Support Tickets'"):
        Plugin("Support Tickets")
    assert Plugin("support_tickets").version_table == "alembic_version_support_tickets"


@pytest.mark.policy("P02")
@pytest.mark.anyio
async def test_p02_create_app_refuses_to_start_when_a_package_column_loses_its_declaration(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Services built beforehand: only create_app's own check stands between the gap and serving.
    phone = Customer.__table__.c.phone  # type: ignore[attr-defined]
    monkeypatch.delitem(phone.info, PRIVACY_INFO_KEY)
    with pytest.raises(InventoryError) as raised:
        create_app(settings, services=services)
    assert "customers.phone: undeclared column" in str(raised.value)


@pytest.mark.policy("P02")
@pytest.mark.anyio
async def test_p02_create_app_refuses_a_plugin_table_with_an_undeclared_column(
    settings: Settings, services: Services
) -> None:
    metadata = MetaData()
    Table("gift_notes", metadata, Column("id", Uuid, primary_key=True, info={PRIVACY_INFO_KEY: NOT_PERSONAL}),
          Column("customer_id", Uuid, info={PRIVACY_INFO_KEY: SubjectLink()}), Column("recipient_phone", String))
    with_plugin = dataclasses.replace(services, plugins=(*services.plugins, Plugin("gifts", metadata=metadata)))
    with pytest.raises(InventoryError) as raised:
        create_app(settings, services=with_plugin)
    assert "gift_notes.recipient_phone: undeclared column" in str(raised.value)


@pytest.mark.policy("P14")
@pytest.mark.anyio
@pytest.mark.usefixtures("vocabulary")
async def test_p14_staff_can_declare_a_plugins_purpose(settings: Settings) -> None:
    """The staff schema's Purpose enum is made when the schema is built, after the plugins registered theirs:
    made at import, as before, it had no plugin's purpose, and none could be declared."""
    import anyio

    from examples.support_tickets import SUPPORT_TICKETS
    from shop_privacy.schema.core.ids import encode_id
    from shop_privacy.storage.migrate import downgrade, upgrade

    from .helpers import create_customer, random_email, staff_client

    await anyio.to_thread.run_sync(lambda: upgrade(settings.database_url, plugins=[SUPPORT_TICKETS]))
    services = Shop(settings=settings, plugins=[SUPPORT_TICKETS]).services()
    try:
        app = create_app(settings, services=services)
        subject = await create_customer(services, random_email())
        support = await staff_client(app, services, "support")
        answer = await support.gql("query($id: ID!) @purpose(use: SUPPORT_TICKETS) { customer(id: $id) { id } }",
                                   {"id": encode_id("Customer", subject)})
        assert not answer.codes, answer.body  # validated and ran under the plugin's purpose
        assert answer.data["customer"]["id"] == encode_id("Customer", subject)
    finally:
        await services.close()
        await anyio.to_thread.run_sync(lambda: downgrade(settings.database_url, "base", plugin=SUPPORT_TICKETS))
