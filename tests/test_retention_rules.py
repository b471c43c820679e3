"""Retention follows the declarations (P11): every step the sweep runs is seeded just past its rule and
just inside it, and only the expired row goes (or is reduced); a plugin's table with a declared rule is
swept with no code of its own; a declared sweep that names an unknown rule or column stops the start."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid, create_engine, insert, select
from sqlmodel import SQLModel

from shop_privacy.plugins import Plugin
from shop_privacy.privacy.declarations import NOT_PERSONAL, Erasure, SubjectLink, personal
from shop_privacy.privacy.inventory import InventoryError
from shop_privacy.privacy.retention import RetentionRule, sweep
from shop_privacy.services import Services, build_services
from shop_privacy.storage.columns import PRIVACY_INFO_KEY, SWEEPS, swept
from shop_privacy.storage.inventory import check_declarations
from shop_privacy.storage.tables import (
    AccountMail,
    AuthSession,
    Cart,
    Consent,
    Disclosure,
    ErasureLedgerEntry,
    LoginThrottle,
    Order,
    OutboxMessage,
    PasswordResetToken,
    PendingRegistration,
    Rectification,
    StaffSession,
    StaffUser,
    SubjectRequest,
)
from shop_privacy.storage.types import UTCDateTime
from shop_privacy.storage.urls import DatabaseURL

from .conftest import make_settings
from .helpers import create_customer

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P11")]

# A controlled clock, in the middle of a calendar (fiscal) year.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)
THREE_YEARS = 3 * 365 * DAY
# Seven years after the end of the fiscal year: an order of 2018 is past it in 2026, one of 2019 is not.
BOOKKEEPING_CUTOFF = datetime(NOW.year - 7, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fixture:
    customer_id: uuid.UUID
    staff_id: uuid.UUID


def _token() -> str:
    return uuid.uuid4().hex * 2


def _order(customer_id: uuid.UUID | None, placed_at: datetime, ip: str | None) -> Order:
    key = uuid.uuid4().hex[:12]
    return Order(customer_id=customer_id, order_number=f"R-{key}", idempotency_key=key, status="DELIVERED",
                 payment_method="CARD_STRIPE", currency="SEK", subtotal_net_minor=100, vat_minor=25, total_minor=125,
                 placed_at=placed_at, ip_address=ip)


@dataclass(frozen=True)
class Seed:
    """A row whose clock is `cutoff`-based: made once just past the rule and once just inside it."""

    cutoff: datetime  # the moment the rule draws its line at, worked out here, not by the sweep
    row: Callable[[datetime, Fixture], SQLModel]
    reduced: tuple[str, ...] = ()  # the expired row stays with these columns cleared; () : it goes
    # Rows the rule does not cover at all, however old (they must stay as they are).
    spared: Callable[[Fixture], list[SQLModel]] = lambda fixture: []


SEEDS: dict[str, Seed] = {
    "accounting_minimum": Seed(
        BOOKKEEPING_CUTOFF, lambda at, f: _order(None, at, None),
        # An order of a customer who still has an account is no accounting minimum: it stays.
        spared=lambda f: [_order(f.customer_id, datetime(2010, 1, 1, tzinfo=UTC), None)]),
    "order_ip_addresses": Seed(NOW - 90 * DAY, lambda at, f: _order(f.customer_id, at, "203.0.113.9"),
                               reduced=("ip_address",)),
    "anonymous_carts": Seed(
        NOW - 30 * DAY, lambda at, f: Cart(token_hash=_token(), updated_at=at),
        spared=lambda f: [Cart(customer_id=f.customer_id, updated_at=NOW - 400 * DAY)]),
    "sessions": Seed(NOW - 30 * DAY, lambda at, f: AuthSession(customer_id=f.customer_id, token_hash=_token(),
                                                               expires_at=at, ip_address="198.51.100.2")),
    "staff_sessions": Seed(NOW - 30 * DAY, lambda at, f: StaffSession(staff_user_id=f.staff_id, token_hash=_token(),
                                                                      expires_at=at)),
    "password_reset_links": Seed(NOW - DAY, lambda at, f: PasswordResetToken(
        customer_id=f.customer_id, token_hash=_token(), created_at=at, expires_at=at + timedelta(hours=1))),
    "unconfirmed_registrations": Seed(NOW, lambda at, f: PendingRegistration(
        email=f"{uuid.uuid4().hex[:8]}@exempel.se", password_hash="x", first_name="P", last_name="Q",
        token_hash=_token(), created_at=at - DAY, expires_at=at)),
    "failed_login_counters": Seed(
        NOW - DAY, lambda at, f: LoginThrottle(key=f"acct:{uuid.uuid4().hex}", failures=3, window_started_at=at),
        # Still locked out: kept until the lock-out ends.
        spared=lambda f: [LoginThrottle(key="acct:locked", failures=9, window_started_at=NOW - 10 * DAY,
                                        locked_until=NOW + DAY)]),
    "visitor_consents": Seed(
        NOW - 365 * DAY, lambda at, f: Consent(visitor_key=_token()[:64], purpose="analytics", granted=True,
                                               recorded_at=at, source="cookie_banner", policy_version="1"),
        # A customer's consent history lasts as long as the account.
        spared=lambda f: [Consent(customer_id=f.customer_id, purpose="newsletter", granted=False,
                                  recorded_at=NOW - 3000 * DAY, source="account_page", policy_version="1")]),
    "consents_of_closed_accounts": Seed(NOW - THREE_YEARS, lambda at, f: Consent(
        customer_id=uuid.uuid4(), purpose="newsletter", granted=True, recorded_at=at - 3000 * DAY,
        source="checkout", policy_version="1", account_closed_at=at)),
    "delivered_messages": Seed(
        NOW - 30 * DAY, lambda at, f: OutboxMessage(recipient="stripe", kind="disclose", payload="{}",
                                                    status="delivered", created_at=at),
        spared=lambda f: [OutboxMessage(recipient="stripe", kind="disclose", payload="{}", status="pending",
                                        created_at=NOW - 400 * DAY)]),
    "sent_mail_contents": Seed(
        NOW - 2 * DAY, lambda at, f: AccountMail(kind="password_changed", recipient="a@exempel.se",
                                                 recipient_name="Anna", subject="Hej", body="Text", headers="{}",
                                                 status="sent", created_at=NOW, sent_at=at),
        reduced=("recipient", "recipient_name", "subject", "body", "headers"),
        spared=lambda f: [AccountMail(kind="welcome", recipient="q@exempel.se", status="queued",
                                      created_at=NOW - 400 * DAY)]),
    "sent_mail_records": Seed(NOW - 30 * DAY, lambda at, f: AccountMail(kind="welcome", status="failed",
                                                                        created_at=at, failed_at=at)),
    "rectification_history": Seed(NOW - THREE_YEARS, lambda at, f: Rectification(
        customer_id=f.customer_id, field="customers.phone", changed_at=at, changed_by="customer", request_id="r")),
    "handled_requests": Seed(
        NOW - THREE_YEARS, lambda at, f: SubjectRequest(customer_id=uuid.uuid4(), kind="export", status="completed",
                                                        channel="email", received_at=at, due_at=at + 30 * DAY),
        # A request still being worked on is never swept.
        spared=lambda f: [SubjectRequest(customer_id=uuid.uuid4(), kind="export", status="received",
                                         channel="email", received_at=NOW - 2000 * DAY, due_at=NOW)]),
    "disclosure_log": Seed(NOW - THREE_YEARS, lambda at, f: Disclosure(
        customer_id=uuid.uuid4(), recipient="stripe", purpose="payment", legal_basis="contract",
        categories="user.contact.email", fields="orders.email", disclosed_at=at)),
    "erasure_ledger": Seed(NOW - 90 * DAY, lambda at, f: ErasureLedgerEntry(
        request_id=uuid.uuid4(), customer_id=uuid.uuid4(), email_hash="0" * 64, erased_at=at, channel="email")),
}


async def _fixture(services: Services) -> Fixture:
    customer_id = await create_customer(services, f"kvar.{uuid.uuid4().hex[:8]}@exempel.se")
    async with services.db.transaction() as session:
        staff = StaffUser(email=f"stab.{uuid.uuid4().hex[:8]}@shop.example", password_hash="x", display_name="S",
                          role="support")
        session.add(staff)
    return Fixture(customer_id, staff.id)


async def test_p11_every_step_the_sweep_runs_is_seeded_past_and_inside_its_rule_and_only_the_expired_row_goes(
    services: Services,
) -> None:
    steps = {step.name: step for step in services.retention.steps()}
    assert set(steps) == set(SEEDS), "a retention step without a seed here (or a seed for no step)"
    fixture = await _fixture(services)
    seeded: dict[str, tuple[SQLModel, SQLModel, list[SQLModel]]] = {}
    async with services.db.transaction() as session:
        for name, seed in SEEDS.items():
            expired, kept = seed.row(seed.cutoff - SECOND, fixture), seed.row(seed.cutoff + SECOND, fixture)
            spared = seed.spared(fixture)
            session.add_all([expired, kept, *spared])
            seeded[name] = (expired, kept, spared)
    keys = {name: [_key(row) for row in (expired, kept, *spared)] for name, (expired, kept, spared) in seeded.items()}
    before = {name: [await _row(services, type(row), key) for row, key in zip(
        (expired, kept, *spared), keys[name], strict=True)] for name, (expired, kept, spared) in seeded.items()}

    dry = await services.retention.run(dry_run=True, now=NOW)
    result = await services.retention.run(now=NOW)
    assert dry.steps == result.steps == dict.fromkeys(SEEDS, 1)

    for name, (expired, _kept, _spared) in seeded.items():
        model = type(expired)
        expired_key, kept_key, *spared_keys = keys[name]
        expired_before, kept_before, *spared_before = before[name]
        after = await _row(services, model, expired_key)
        if SEEDS[name].reduced:
            assert after is not None, name
            assert {c: after[c] for c in SEEDS[name].reduced} == dict.fromkeys(SEEDS[name].reduced), name
            assert {c: v for c, v in after.items() if c not in SEEDS[name].reduced} == \
                {c: v for c, v in expired_before.items() if c not in SEEDS[name].reduced}, name
        else:
            assert after is None, f"{name}: the row past its rule is still there"
        assert await _row(services, model, kept_key) == kept_before, f"{name}: the row inside its rule changed"
        for key, row_before in zip(spared_keys, spared_before, strict=True):
            assert await _row(services, model, key) == row_before, f"{name}: a row the rule does not cover changed"
    again = await services.retention.run(now=NOW)
    assert set(again.steps.values()) == {0}


def _key(row: SQLModel) -> Any:
    table = row.__table__  # type: ignore[attr-defined]
    return getattr(row, list(table.primary_key.columns)[0].name)


async def _row(services: Services, model: type[SQLModel], key: Any) -> dict[str, Any] | None:
    table = model.__table__  # type: ignore[attr-defined]
    primary_key = list(table.primary_key.columns)[0]
    async with services.db.reader() as session:
        row = (await session.exec(select(table).where(primary_key == key))).first()  # type: ignore[call-overload]
    return dict(row._mapping) if row is not None else None


# A shop's own table, declared as the package's are, with its own rule declared on it: no step in code.
_LOYALTY = MetaData()
_VISITS_RULE = RetentionRule("store_visit", "visited_at", 60 * DAY, "60 days after the visit",
                             "60 dagar efter besöket")
_VISITS = Table(
    "store_visits", _LOYALTY,
    Column("id", Uuid, primary_key=True, info={PRIVACY_INFO_KEY: personal(
        categories="user.behavior", purposes="marketing", retention="store_visit", erasure=Erasure.DELETE,
        en="Visit", sv="Besök", source="system")}),
    Column("customer_id", Uuid, info={PRIVACY_INFO_KEY: SubjectLink()}),
    Column("visited_at", UTCDateTime, nullable=False, info={PRIVACY_INFO_KEY: personal(
        categories="user.behavior", purposes="marketing", retention="store_visit", erasure=Erasure.DELETE,
        en="Visited", sv="Besökt", source="system")}),
    Column("page", String(200), info={PRIVACY_INFO_KEY: personal(
        categories="user.behavior", purposes="marketing", retention="store_visit", erasure=Erasure.DELETE,
        en="Page", sv="Sida", source="system")}),
    **swept(sweep("old_store_visits", "store_visit", "visited_at")),
)


async def test_p11_a_plugin_table_with_a_declared_rule_is_swept_with_no_code_of_its_own(
    database_url: str, tmp_path: Path, vocabulary: None
) -> None:
    plugin = Plugin("loyalty_visits", metadata=_LOYALTY, retention_rules=[_VISITS_RULE])
    assert plugin.retention_steps == ()
    services = build_services(make_settings(database_url, tmp_path), plugins=[plugin])
    engine = create_engine(DatabaseURL.parse(database_url).sync_url)
    _LOYALTY.create_all(engine)
    try:
        ids = {age: uuid.uuid4() for age in (61, 59)}
        async with services.db.transaction() as session:
            for age, key in ids.items():
                await session.exec(insert(_VISITS).values(  # type: ignore[call-overload]
                    id=key, customer_id=uuid.uuid4(), visited_at=NOW - age * DAY, page="/hosting"))
        assert "old_store_visits" in {step.name for step in services.retention.steps()}
        result = await services.retention.run(now=NOW)
        assert result.steps["old_store_visits"] == 1
        async with services.db.reader() as session:
            left = set((await session.exec(select(_VISITS.c.id))).scalars())  # type: ignore[call-overload]
        assert left == {ids[59]}
    finally:
        _LOYALTY.drop_all(engine)
        engine.dispose()
        await services.close()


def test_p11_a_declared_sweep_naming_an_unknown_rule_or_column_stops_the_start() -> None:
    broken = MetaData()
    Table("notes", broken, Column("id", Uuid, primary_key=True, info={PRIVACY_INFO_KEY: NOT_PERSONAL}),
          info={SWEEPS: (sweep("old_notes", "no_such_rule", "written_at"),
                         sweep("reduced_notes", "account", "id", reduce=True))})
    with pytest.raises(InventoryError) as stopped:
        check_declarations(broken)
    problems = "\n".join(stopped.value.problems)
    assert "notes: sweep 'old_notes': unknown retention rule 'no_such_rule'" in problems
    assert "notes: sweep 'old_notes': no column 'written_at'" in problems
    assert "notes: sweep 'reduced_notes': reduces, but no column is declared with rule 'account'" in problems
