"""One shop configuration (`shop_privacy.Shop`) named once with `--app`: the web app and every command see
the same plugins, payment providers and recipient adapters (issue 10)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, update

from shop_privacy import cli
from shop_privacy.settings import Settings
from shop_privacy.shop import Shop, load_shop
from shop_privacy.storage.migrate import current_revisions
from shop_privacy.storage.urls import DatabaseURL

from .conftest import client_for
from .helpers import ADD_TO_CART, CHECKOUT, COMPLETE_PROFILE, UPDATE_PROFILE, create_customer, login, product_ids
from .support_shop import DELIVERIES_VARIABLE, REFERENCE_PREFIX

APP = "tests.support_shop:shop"


@pytest.fixture
def shop_environment(command_environment: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command environment, and where the test shop's adapter writes what it delivers."""
    deliveries = tmp_path / "deliveries.jsonl"
    monkeypatch.setenv(DELIVERIES_VARIABLE, str(deliveries))
    return deliveries


def _tables(database_url: str) -> set[str]:
    engine = create_engine(DatabaseURL.parse(database_url).sync_url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _run(*arguments: str) -> int:
    return cli.main(["--app", APP, *arguments])


async def _shop_in_use(deliveries: Path) -> uuid.UUID:
    """The web app of the shop `--app` names: a customer checks out with the shop's card provider and opens
    a support ticket (the plugin's table), which goes to the helpdesk through the disclosure registry."""
    from examples.support_tickets.service import SupportTickets

    shop = load_shop(APP)
    services = shop.services()
    app = shop.app(services)
    async with app.router.lifespan_context(app):
        from shop_privacy.catalogue.demo import seed_catalogue

        async with services.db.transaction() as session:
            await seed_catalogue(session)
        client = client_for(app)
        customer_id = await create_customer(services, "kund.support@exempel.se")
        (await login(client, "kund.support@exempel.se")).ok()
        (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
        products = await product_ids(client)
        (await client.gql(ADD_TO_CART, {"input": {"productId": products["HOSTING-BUSINESS"], "quantity": 1}})).ok()
        order = (await client.gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE",
                                                       "idempotencyKey": "support-shop-0001"}})).ok()["checkout"]
        assert order["paymentReference"].startswith(REFERENCE_PREFIX), order
        ticket = await SupportTickets(services).open(customer_id, "Fakturan", "Var är min faktura för mars?")
        await SupportTickets(services).close(ticket.id)
        await client.http.aclose()
    assert not deliveries.exists(), "nothing is delivered before `outbox run`"
    return ticket.id


@pytest.mark.policy("P04")
@pytest.mark.usefixtures("vocabulary")
def test_p04_every_command_uses_the_shop_named_by_app(
    shop_environment: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deliveries = shop_environment
    assert "support_tickets" not in _tables(database_url)
    assert _run("db", "upgrade") == 0
    assert "support_tickets" in _tables(database_url)
    assert current_revisions(database_url, load_shop(APP).plugin("support_tickets")) == ({"st0001"}, {"st0001"})

    ticket_id = asyncio.run(_shop_in_use(deliveries))

    capsys.readouterr()
    assert _run("outbox", "run", "--once") == 0
    assert "delivered 2" in capsys.readouterr().out
    delivered = {m["recipient"]: m for m in map(json.loads, deliveries.read_text().splitlines())}
    assert delivered["stripe"]["payload"]["data"]["email"] == "kund.support@exempel.se"
    assert delivered["helpdesk"]["payload"]["purpose"] == "support_tickets"
    assert delivered["helpdesk"]["payload"]["data"] == {"subject": "Fakturan", "body": "Var är min faktura för mars?"}

    assert _run("ropa", "--format", "json") == 0
    record = json.loads(capsys.readouterr().out)
    (support,) = [p for p in record["purposes"] if p["purpose"] == "support_tickets"]
    assert support["categoriesOfData"] == ["user.support_request"]
    assert support["recipients"] == ["Exempel Helpdesk AB"] and support["legalBasis"] == "contract"
    assert support["retention"] == [{"rule": "support_ticket", "description": "Two years after the ticket was closed"}]

    # The plugin's retention step runs in `retention run`: a ticket closed three years ago goes.
    asyncio.run(_close_long_ago(ticket_id))
    assert _run("retention", "run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["steps"]["closed_support_tickets"] == 1
    asyncio.run(_assert_no_tickets())

    # Taken out again: the plugin's table and its version table go, the package's schema stays.
    assert _run("db", "downgrade", "--plugin", "support_tickets", "base") == 0
    left = _tables(database_url)
    assert not {"support_tickets", "alembic_version_support_tickets"} & left and "customers" in left


async def _close_long_ago(ticket_id: uuid.UUID) -> None:
    from examples.support_tickets import SupportTicket
    from shop_privacy.storage.types import utc_now

    services = load_shop(APP).services()
    async with services.db.transaction() as session:
        await session.exec(update(SupportTicket).where(SupportTicket.id == ticket_id)  # type: ignore[call-overload, arg-type]
                           .values(closed_at=utc_now() - timedelta(days=3 * 365)))
    await services.close()


async def _assert_no_tickets() -> None:
    from sqlmodel import select

    from examples.support_tickets import SupportTicket

    services = load_shop(APP).services()
    async with services.db.read() as session:
        assert (await session.exec(select(SupportTicket))).all() == []
    await services.close()


@pytest.mark.policy("P22")
@pytest.mark.policy("P24")
@pytest.mark.anyio
@pytest.mark.usefixtures("vocabulary")
async def test_p22_p24_the_worked_plugins_tickets_are_exported_labelled_and_erased(
    settings: Settings, unique_email: str
) -> None:
    from sqlalchemy import true

    from examples.support_tickets import SUPPORT_TICKETS, SupportTicket
    from examples.support_tickets.service import SupportTickets
    from examples.support_tickets.tables import METADATA
    from shop_privacy.errors import BadUserInput
    from shop_privacy.rights.requests import Channel

    from .rights_fixtures import export_of

    engine = create_engine(DatabaseURL.parse(settings.database_url).sync_url)
    METADATA.create_all(engine)
    services = Shop(settings=settings, plugins=[SUPPORT_TICKETS]).services()
    try:
        customer_id = await create_customer(services, unique_email)
        tickets = SupportTickets(services)
        with pytest.raises(BadUserInput, match="card numbers"):
            await tickets.open(customer_id, "Betalning", "Mitt kort 4111 1111 1111 1111 nekades")
        await tickets.open(customer_id, "Fakturan", "Var är min faktura för mars?")

        document, html = await export_of(services, customer_id)
        (section,) = [s for s in document["sections"] if s["name"] == "support_tickets"]
        assert [(r["values"]["subject"], r["values"]["body"]) for r in section["rows"]] == [
            ("Fakturan", "Var är min faktura för mars?")]
        assert "Meddelande" in html and "Två år efter att ärendet stängdes" in html
        assert "Answering the customer's support tickets" in json.dumps(document)

        assert await services.rights.erase_if_still(customer_id, true(), Channel.EMAIL) is not None
        async with services.db.read() as session:
            from sqlmodel import select

            assert (await session.exec(select(SupportTicket))).all() == []
    finally:
        await services.close()
        METADATA.drop_all(engine)
        engine.dispose()
