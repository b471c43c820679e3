"""Erasure (P13, P24): everything goes but the accounting minimum, in one transaction, idempotently."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import String, func, select, update
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString
from starlette.applications import Starlette

from shop_privacy.disclosures.outbox import RecordingAdapter
from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer, Order, OrderLine, SubjectRequest
from shop_privacy.storage.types import utc_now

from .helpers import PASSWORD, StorefrontClient, login, register_and_verify, staff_client
from .rights_fixtures import Seeded, seed_everything

pytestmark = pytest.mark.anyio

REQUEST_ERASURE = """mutation($password: String) { requestErasure(password: $password) {
  id status holdReason report } }"""
CANCEL = "mutation($id: ID!) { cancelErasure(requestId: $id) { status } }"


async def snapshot(services: Services) -> dict[str, list[tuple[str, ...]]]:
    tables: dict[str, list[tuple[str, ...]]] = {}
    async with services.db.reader() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.exec(select(table))).all()  # type: ignore[call-overload]
            tables[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return tables


async def where_found(services: Services, needles: list[str]) -> set[tuple[str, str]]:
    """(table, column) of every text column holding any of the needles, case-insensitively."""
    hits: set[tuple[str, str]] = set()
    async with services.db.reader() as session:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | AutoString):
                    continue
                for needle in needles:
                    count = await session.scalar(select(func.count()).select_from(table).where(
                        func.lower(column).contains(needle.lower())))
                    if count:
                        hits.add((table.name, column.name))
    return hits


async def _erase(services: Services, seeded: Seeded) -> SubjectRequest:
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, seeded.customer_id, _kind("erasure"), _channel("email"))
    return await services.rights.run(request.id)


def _kind(value: str) -> Any:
    from shop_privacy.rights.requests import RequestKind

    return RequestKind(value)


def _channel(value: str) -> Any:
    from shop_privacy.rights.requests import Channel

    return Channel(value)


@pytest.mark.policy("P24")
@pytest.mark.policy("P13")
async def test_p24_p13_erasure_leaves_only_the_accounting_minimum_listed_in_its_report(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    request = await _erase(services, seeded)
    assert request.status == "completed"
    report = json.loads(request.report or "{}")
    retained = {c["category"]: c for c in report["categories"] if c["outcome"] == "retained"}
    removed = {c["category"] for c in report["categories"] if c["outcome"] == "removed"}
    assert {"user.contact.email", "user.contact.phone_number", "user.device.ip_address", "user.name.first",
            "user.name.last", "user.authorization.credentials", "user.behavior.shopping_cart"} <= removed
    # The proof of what was consented to and withdrawn stays, without contact details, three years (P27).
    erased_on = datetime.fromisoformat(report["erasedAt"]).date()
    assert "user.consent" not in removed
    assert retained["user.consent"]["until"] == (erased_on + timedelta(days=3 * 365)).isoformat()
    assert "legal_obligation" in " ".join(retained["user.consent"]["reasons"])
    # The accounting minimum, with the legal reason and the day it goes.
    assert "user.government_id.org_number" in retained and "user.contact.organization" in retained
    assert "Bookkeeping" in " ".join(retained["user.behavior.purchase_history"]["reasons"])
    # The same for a person, in both languages: the category's label, the purpose and its legal basis in words.
    history = retained["user.behavior.purchase_history"]
    assert history["label"]["sv"] != "user.behavior.purchase_history" and history["label"]["en"]
    assert any("Rättslig förpliktelse (GDPR art. 6.1 c)" in reason for reason in history["why"]["sv"])
    assert any("Legal obligation (GDPR Art. 6(1)(c))" in reason for reason in history["why"]["en"])
    # Seven years after the end of the (calendar) fiscal year the invoice order was placed in.
    async with services.db.reader() as session:
        placed_at = (await session.get(Order, seeded.invoice_order_id)).placed_at  # type: ignore[union-attr]
    assert retained["user.behavior.purchase_history"]["until"] == f"{placed_at.year + 7}-12-31"
    assert "user.privacy.access_log" in retained  # who read the data stays, for accountability

    async with services.db.reader() as session:
        assert await session.get(Customer, seeded.customer_id) is None
        invoice = await session.get(Order, seeded.invoice_order_id)
        card = await session.get(Order, seeded.card_order_id)
        lines = (await session.exec(select(func.count()).select_from(OrderLine))).one()  # type: ignore[call-overload]
    assert invoice is not None and card is not None and lines[0] == 2
    for order in (invoice, card):
        assert (order.customer_id, order.email, order.phone, order.ip_address, order.first_name,
                order.last_name) == (None,) * 6
        assert order.order_number and order.total_minor == 19875 and order.payment_reference
    # An invoice keeps the company's details for the accounts; a card payment does not.
    assert (invoice.company_name, invoice.company_org_number, invoice.address_city) == (
        "Gretas Konsult AB", "556036-0793", "Göteborg")
    assert (card.company_name, card.address_street, card.address_city) == (None, None, None)

    # P25: the recipient that got the data is asked to erase it too; the request carries the address
    # it knows the customer by, until it is delivered.
    assert report["recipientsAskedToErase"] == ["stripe"]
    needles = [seeded.email, seeded.phone, seeded.ip, *seeded.names]
    accounting = {("orders", "company_name"), ("order_lines", "domain_name")}
    # The customer's queued mails are gone; only the erasure's own confirmation holds the address.
    confirmation = {("account_mails", "recipient")}
    assert report["confirmationMail"]["category"] == "user.contact.email"
    assert await where_found(services, needles) == accounting | {("outbox_messages", "payload")} | confirmation
    recorder = RecordingAdapter()
    services.outbox.adapters = {"stripe": recorder}
    assert (await services.outbox.run_until_idle()).delivered == 1
    assert [(m.kind, m.payload["data"]) for m in recorder.delivered] == [("erase", {"email": seeded.email})]
    await services.mailer.flush()
    assert await where_found(services, needles) == accounting | confirmation
    # Once the confirmation is sent and its short retention is over, a scan of every table for the
    # e-mail, phone, IP and names finds only what the report keeps.
    await services.retention.run(now=utc_now() + timedelta(days=services.settings.retention_sent_mail_days + 1))
    hits = await where_found(services, needles)
    assert hits <= accounting, hits
    assert {"user.contact.organization", "user.behavior.purchase_history.domain_name"} <= retained.keys()


@pytest.mark.policy("P24")
async def test_p24_a_failure_half_way_leaves_everything_as_it_was_and_a_rerun_finishes(
    services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await seed_everything(services, unique_email)
    before = await snapshot(services)
    eraser = services.rights._eraser
    real = eraser._erase_table
    calls = 0

    async def failing(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("disk full")
        await real(*args, **kwargs)

    monkeypatch.setattr(eraser, "_erase_table", failing)
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, seeded.customer_id, _kind("erasure"), _channel("email"))
    with pytest.raises(RuntimeError):
        await services.rights.run(request.id)
    after = await snapshot(services)
    assert after == before | {"subject_requests": after["subject_requests"]}  # only the request record is new
    assert calls == 5
    monkeypatch.setattr(eraser, "_erase_table", real)
    assert (await services.rights.run(request.id)).status == "completed"


@pytest.mark.policy("P24")
async def test_p24_running_an_erasure_again_changes_nothing(services: Services, unique_email: str) -> None:
    seeded = await seed_everything(services, unique_email)
    first = await _erase(services, seeded)
    await services.mailer.flush()  # the confirmation mail's first attempt, which marks it sent
    done = await snapshot(services)
    assert (await services.rights.run(first.id)).report == first.report
    again = await _erase(services, seeded)  # a new request for the same, already erased, customer
    assert again.status == "completed"
    after = await snapshot(services)
    assert after == done | {"subject_requests": after["subject_requests"]}


@pytest.mark.policy("P13")
async def test_p13_orders_past_their_bookkeeping_period_go_entirely(services: Services, unique_email: str) -> None:
    seeded = await seed_everything(services, unique_email)
    nine_years_ago = utc_now() - timedelta(days=9 * 366)
    async with services.db.transaction() as session:
        await session.exec(update(Order).where(Order.id == seeded.card_order_id).values(placed_at=nine_years_ago))
    await _erase(services, seeded)
    async with services.db.reader() as session:
        assert await session.get(Order, seeded.card_order_id) is None
        assert await session.get(Order, seeded.invoice_order_id) is not None
        remaining = (await session.exec(select(OrderLine.order_id))).all()  # type: ignore[call-overload]
    assert {row[0] for row in remaining} == {seeded.invoice_order_id}


@pytest.mark.policy("P24")
async def test_p24_the_customer_erases_their_account_and_the_address_can_register_again(
    client: StorefrontClient, outbox, services: Services, unique_email: str  # noqa: ANN001
) -> None:
    await register_and_verify(client, outbox, unique_email)
    response = (await client.gql(REQUEST_ERASURE, {"password": PASSWORD})).ok()["requestErasure"]
    assert response["status"] == "COMPLETED" and response["holdReason"] is None
    outcomes = {(c["category"], c["outcome"]) for c in response["report"]["categories"]}
    assert ("user.contact.email", "removed") in outcomes
    assert (await client.gql("{ me { id } }")).ok()["me"] is None  # logged out: the session is gone
    assert await outbox.messages(unique_email, "erasure_done")
    assert (await login(client, unique_email)).codes == ["INVALID_CREDENTIALS"]
    await register_and_verify(client, outbox, unique_email)
    assert (await client.gql("{ me { email } }")).ok()["me"]["email"] == unique_email


@pytest.mark.policy("P24")
async def test_p24_an_unsettled_order_holds_the_erasure_with_the_reason_and_it_can_be_cancelled(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email, order_status="PAID")
    (await login(client, unique_email)).ok()
    held = (await client.gql(REQUEST_ERASURE, {"password": PASSWORD})).ok()["requestErasure"]
    assert held["status"] == "ON_HOLD" and "is not delivered yet" in held["holdReason"]
    async with services.db.reader() as session:
        assert await session.get(Customer, seeded.customer_id) is not None
    mine = (await client.gql("{ myRequests { id kind status } }")).ok()["myRequests"]
    assert [(r["kind"], r["status"]) for r in mine] == [("ERASURE", "ON_HOLD"), ("EXPORT", "COMPLETED")]
    assert (await client.gql(CANCEL, {"id": held["id"]})).ok()["cancelErasure"]["status"] == "CANCELLED"
    assert (await client.gql(CANCEL, {"id": held["id"]})).codes == ["BAD_USER_INPUT"]


async def test_an_erasure_needs_a_recent_password(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    from shop_privacy.storage.tables import AuthSession

    await seed_everything(services, unique_email)
    (await login(client, unique_email)).ok()
    async with services.db.transaction() as session:
        await session.exec(update(AuthSession).values(authenticated_at=utc_now() - timedelta(minutes=30)))
    assert (await client.gql(REQUEST_ERASURE)).codes == ["REAUTHENTICATION_REQUIRED"]
    async with services.db.reader() as session:
        assert (await session.exec(select(func.count()).select_from(SubjectRequest)  # type: ignore[call-overload]
                                   .where(SubjectRequest.kind == "erasure"))).one()[0] == 0


async def test_staff_accounts_cannot_be_erased_as_customers(app: Starlette, services: Services) -> None:
    dpo = await staff_client(app, services, "dpo")
    me = (await dpo.gql("{ me { id } }")).ok()["me"]["id"]
    from shop_privacy.schema.core.ids import decode_id, encode_id

    staff_as_customer = encode_id("Customer", decode_id("StaffMember", me) or uuid.uuid4())
    response = await dpo.gql("""mutation($c: ID!) { registerSubjectRequest(input: {customerId: $c, kind: ERASURE,
      channel: IN_PERSON, identityVerification: "in person"}) { id } }""", {"c": staff_as_customer})
    assert response.codes == ["NOT_FOUND"]
    assert (await dpo.gql("{ me { id } }")).ok()["me"]["id"] == me


