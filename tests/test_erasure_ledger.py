"""Backups that keep erasures (P24, P13, P11): every completed erasure leaves an entry in the erasure
ledger, in the database and in a signed file outside it; after a backup taken before the erasure is
restored, `rights reapply` erases the customer again, keeping the same accounting minimum."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from shop_privacy.app import create_app
from shop_privacy.rights import ledger as ledger_file
from shop_privacy.rights import ledger_commands
from shop_privacy.rights.requests import Channel, RequestKind
from shop_privacy.schema.core.ids import decode_id
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings
from shop_privacy.storage.tables import Customer, ErasureLedgerEntry, Order, OrderLine, SubjectRequest
from shop_privacy.storage.types import utc_now

from .backups import Backups
from .conftest import TEST_SECRET, client_for, make_settings
from .helpers import create_customer, register_and_verify
from .rights_fixtures import Seeded, seed_everything

pytestmark = pytest.mark.anyio

REQUEST_ERASURE = "mutation($password: String) { requestErasure(password: $password) { id status } }"


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "erasure-ledger.jsonl"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, ledger_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, erasure_ledger_file=ledger_path)


@pytest.fixture
def backups(database_url: str, tmp_path: Path) -> Iterator[Backups]:
    made = Backups(database_url, tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
async def opened(tmp_path: Path, ledger_path: Path) -> AsyncIterator[Any]:
    """Opens services on another database (a restored copy); closes them at the end."""
    built: list[Services] = []

    def open_on(url: str) -> Services:
        services = build_services(make_settings(url, tmp_path, erasure_ledger_file=ledger_path))
        built.append(services)
        return services

    yield open_on
    for services in built:
        await services.mailer.flush()
        await services.close()


async def erase_by_dpo(services: Services, customer_id: uuid.UUID) -> SubjectRequest:
    request = await services.rights.register(uuid.uuid4(), customer_id, RequestKind.ERASURE, "BankID",
                                             channel=Channel.IN_PERSON)
    return await services.rights.run(request.id)


async def accounting_minimum(services: Services, order_ids: list[uuid.UUID], *,
                             leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The rows the erasure kept of these orders, every column (but those left out)."""
    orders, lines = Order.__table__, OrderLine.__table__  # type: ignore[attr-defined]
    async with services.db.reader() as session:
        kept = (await session.exec(select(orders).where(orders.c.id.in_(order_ids))  # type: ignore[call-overload]
                                   .order_by(orders.c.id))).mappings().all()
        kept_lines = (await session.exec(select(lines).where(lines.c.order_id.in_(order_ids))  # type: ignore[call-overload]
                                         .order_by(lines.c.id))).mappings().all()
    return [{k: v for k, v in row.items() if k not in leave_out} for row in [*kept, *kept_lines]]


async def account_with(services: Services, email: str) -> uuid.UUID | None:
    async with services.db.reader() as session:
        return (await session.exec(select(Customer.id).where(col(Customer.email) == email))).scalar_one_or_none()  # type: ignore[call-overload]


async def ledger_rows(services: Services) -> list[ErasureLedgerEntry]:
    async with services.db.reader() as session:
        return list((await session.exec(select(ErasureLedgerEntry))).scalars().all())  # type: ignore[call-overload]


async def reapply(services: Services, path: Path, *, dry_run: bool = False) -> tuple[int, dict[str, Any]]:
    """`shop-privacy rights reapply --ledger PATH --json` against the database `services` use."""
    out = io.StringIO()
    status = await anyio.to_thread.run_sync(lambda: ledger_commands.reapply(
        str(path), dry_run=dry_run, as_json=True, out=out, settings=services.settings))
    return status, json.loads(out.getvalue()) if out.getvalue() else {}


async def take_backup(services: Services, backups: Backups, label: str) -> str:
    await services.close()  # PostgreSQL copies a database nobody is connected to
    return backups.copy(services.settings.database_url, label)


def orders_of(seeded: Seeded) -> list[uuid.UUID]:
    return [seeded.invoice_order_id, seeded.card_order_id]


@pytest.mark.policy("P24")
@pytest.mark.policy("P13")
async def test_p24_p13_a_restored_backup_is_erased_again_with_the_same_accounting_minimum(
    services: Services, backups: Backups, opened: Any, ledger_path: Path, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    backup = await take_backup(services, backups, "backup")

    request = await erase_by_dpo(services, seeded.customer_id)
    assert request.status == "completed"
    first_minimum = await accounting_minimum(services, orders_of(seeded))
    assert first_minimum and all(row.get("customer_id", None) is None for row in first_minimum[:2])
    # The file holds the entry, signed, and nothing that names the customer.
    held = ledger_file.read(ledger_path, services.rights.ledger.key)
    assert [(e.request_id, e.subject_id) for e in held.entries] == [(request.id, seeded.customer_id)]
    assert not held.refused
    text = ledger_path.read_text()
    assert unique_email not in text and "Greta" not in text and seeded.phone not in text
    assert held.entries[0].email_hash == services.rights.ledger.email_hash(unique_email.upper())
    # The report lists the ledger entry among what the erasure keeps.
    report = json.loads(request.report or "{}")
    assert {"category": "user.privacy.erasure", "outcome": "retained"}.items() <= next(
        c for c in report["categories"] if c["category"] == "user.privacy.erasure").items()

    restored = opened(backups.copy(backup, "restored"))
    assert await account_with(restored, unique_email) == seeded.customer_id  # what a restore brings back

    status, result = await reapply(restored, ledger_path)
    assert status == 0
    assert (result["entriesRead"], result["erasedAgain"], result["alreadyGone"], result["badSignatures"]) == (
        1, 1, 0, 0)
    assert await account_with(restored, unique_email) is None
    async with restored.db.reader() as session:
        assert await session.get(Customer, seeded.customer_id) is None
        again = await session.get(SubjectRequest, request.id)
    assert again is not None and again.status == "completed"
    assert json.loads(again.report or "{}")["reappliedFromLedger"]["requestId"] == str(request.id)
    assert await accounting_minimum(restored, orders_of(seeded)) == first_minimum
    # The restored database's ledger has the entry again, for the next backup.
    assert [(r.request_id, r.customer_id) for r in await ledger_rows(restored)
            if r.request_id == request.id] == [(request.id, seeded.customer_id)]
    # The customer was told when they were erased; the restore does not mail them again.
    assert len(ledger_file.read(ledger_path, services.rights.ledger.key).entries) == 1

    # Twice is once.
    status, result = await reapply(restored, ledger_path)
    assert status == 0 and (result["erasedAgain"], result["alreadyGone"], result["recordedInDatabase"]) == (0, 1, 0)
    assert await accounting_minimum(restored, orders_of(seeded)) == first_minimum


@pytest.mark.policy("P24")
@pytest.mark.policy("P13")
async def test_p24_p13_an_erasure_held_by_an_order_then_completed_is_erased_again_from_a_backup_taken_while_held(
    services: Services, backups: Backups, opened: Any, ledger_path: Path, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email, order_status="PAID")
    held = await erase_by_dpo(services, seeded.customer_id)
    assert held.status == "on_hold"
    backup = await take_backup(services, backups, "backup")

    async with services.db.transaction() as session:
        await session.exec(update(Order).where(col(Order.id).in_(orders_of(seeded)))  # type: ignore[call-overload]
                           .values(status="FULFILLED"))
    assert (await services.retention.run()).resumed == 1
    first_minimum = await accounting_minimum(services, orders_of(seeded), leave_out=("status",))
    assert [e.request_id for e in ledger_file.read(ledger_path, services.rights.ledger.key).entries] == [held.id]

    restored = opened(backups.copy(backup, "restored"))
    status, result = await reapply(restored, ledger_path)
    assert status == 0 and result["erasedAgain"] == 1
    async with restored.db.reader() as session:
        assert await session.get(Customer, seeded.customer_id) is None
        request = await session.get(SubjectRequest, held.id)
    # The request the backup held on, completed: the ledger shows its orders were settled by then.
    assert request is not None and request.status == "completed"
    assert await account_with(restored, unique_email) is None
    assert await accounting_minimum(restored, orders_of(seeded), leave_out=("status",)) == first_minimum


@pytest.mark.policy("P24")
async def test_p24_every_way_an_erasure_completes_leaves_one_ledger_entry_in_the_database_and_the_file(
    services: Services, settings: Settings, ledger_path: Path, outbox: Any, unique_email: str
) -> None:
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        client = client_for(app)
        self_service = decode_id("Customer", await register_and_verify(client, outbox, unique_email))
        assert (await client.gql(REQUEST_ERASURE, {"password": "Blå-Skog-Väg-2026!"})).ok()[
            "requestErasure"]["status"] == "COMPLETED"
        await client.http.aclose()
    assert self_service is not None and await account_with(services, unique_email) is None
    by_dpo = await create_customer(services, "dpo.erased@exempel.se")
    await erase_by_dpo(services, by_dpo)
    inactive = await create_customer(services, "inactive@exempel.se")
    async with services.db.transaction() as session:
        await session.exec(update(Customer).where(col(Customer.id) == inactive).values(  # type: ignore[call-overload]
            created_at=utc_now() - timedelta(days=4 * 365), inactivity_warned_at=utc_now() - timedelta(days=40)))
    assert (await services.retention.run()).erased == 1
    # A second erasure request of someone already gone leaves no second entry.
    async with services.db.transaction() as session:
        again = services.rights.queue.open(session, by_dpo, RequestKind.ERASURE, Channel.EMAIL)
    await services.rights.run(again.id)

    expected = {(self_service, "self_service"), (by_dpo, "in_person"), (inactive, "retention")}
    rows = await ledger_rows(services)
    assert {(r.customer_id, r.channel) for r in rows} == expected and len(rows) == 3
    held = ledger_file.read(ledger_path, services.rights.ledger.key)
    assert {(e.subject_id, e.channel) for e in held.entries} == expected and len(held.entries) == 3
    assert {e.email_hash for e in held.entries} == {services.rights.ledger.email_hash(a) for a in (
        unique_email, "dpo.erased@exempel.se", "inactive@exempel.se")}


@pytest.mark.policy("P24")
async def test_p24_reapply_keeps_an_account_registered_again_after_the_erasure_and_finds_others_by_address(
    services: Services, backups: Backups, opened: Any, ledger_path: Path, unique_email: str
) -> None:
    erased = await create_customer(services, unique_email)
    await erase_by_dpo(services, erased)
    # The same person registers again, with the same address, after the erasure: a new account.
    again = await create_customer(services, unique_email)
    assert again != erased
    # An account the ledger knows only by address (its id is not in this database), older than the
    # erasure: the one that was erased, under another id (a copy restored from elsewhere).
    by_address = await create_customer(services, "samma.person@exempel.se")
    entry = services.rights.ledger.entry(uuid.uuid4(), uuid.uuid4(), "Samma.Person@Exempel.se", "email", utc_now())
    ledger_file.append(ledger_path, [entry], services.rights.ledger.key)
    backup = await take_backup(services, backups, "backup")

    restored = opened(backups.copy(backup, "restored"))
    status, result = await reapply(restored, ledger_path)
    assert status == 0
    outcomes = {e["subjectId"]: (e["outcome"], e["accountId"]) for e in result["entries"]}
    assert outcomes[str(erased)] == ("newer_account_kept", str(again))
    assert outcomes[str(entry.subject_id)] == ("erased_again", str(by_address))
    assert await account_with(restored, unique_email) == again
    assert await account_with(restored, "samma.person@exempel.se") is None
    status, result = await reapply(restored, ledger_path)
    assert status == 0 and result["erasedAgain"] == 0 and await account_with(restored, unique_email) == again


@pytest.mark.policy("P24")
async def test_p24_a_tampered_ledger_line_is_refused_and_the_genuine_ones_are_applied(
    services: Services, backups: Backups, opened: Any, ledger_path: Path
) -> None:
    first = await create_customer(services, "forsta@exempel.se")
    second = await create_customer(services, "andra@exempel.se")
    bystander = await create_customer(services, "oskyldig@exempel.se")
    backup = await take_backup(services, backups, "backup")
    await erase_by_dpo(services, first)
    await erase_by_dpo(services, second)

    lines = ledger_path.read_text().splitlines()
    tampered = json.loads(lines[1])
    tampered["subjectId"] = str(bystander)  # aimed at someone else: the signature no longer matches
    forged = ledger_file.line_of(  # signed, but with another shop's key
        services.rights.ledger.entry(uuid.uuid4(), bystander, "oskyldig@exempel.se", "email", utc_now()),
        ledger_file.LedgerKey("another-shops-secret-key-0123456789abcdef"))
    ledger_path.write_text("\n".join([lines[0], json.dumps(tampered), forged, "not json"]) + "\n")

    restored = opened(backups.copy(backup, "restored"))
    status, result = await reapply(restored, ledger_path)
    assert status == 1
    assert result["refused"] == [{"line": 2, "reason": "bad signature"}, {"line": 3, "reason": "bad signature"},
                                 {"line": 4, "reason": "not a ledger entry"}]
    assert result["badSignatures"] == 2 and result["erasedAgain"] == 1
    assert await account_with(restored, "forsta@exempel.se") is None
    assert await account_with(restored, "oskyldig@exempel.se") == bystander
    assert await account_with(restored, "andra@exempel.se") == second  # its line was refused


@pytest.mark.policy("P24")
async def test_p24_a_dry_run_changes_nothing_and_a_missing_ledger_file_cannot_run(
    services: Services, ledger_path: Path, tmp_path: Path
) -> None:
    customer = await create_customer(services, "torr@exempel.se")
    entry = services.rights.ledger.entry(uuid.uuid4(), customer, "torr@exempel.se", "email",
                                         utc_now() + timedelta(seconds=1))
    ledger_file.append(ledger_path, [entry], services.rights.ledger.key)
    status, result = await reapply(services, ledger_path, dry_run=True)
    assert status == 0 and result["erasedAgain"] == 1 and result["recordedInDatabase"] == 1
    assert await account_with(services, "torr@exempel.se") == customer and await ledger_rows(services) == []
    status, result = await reapply(services, tmp_path / "no-such-ledger.jsonl")
    assert status == 2 and result == {}


@pytest.mark.policy("P24")
async def test_p24_ledger_export_writes_the_database_ledger_as_signed_lines_reapply_accepts(
    services: Services, settings: Settings
) -> None:
    old = services.rights.ledger.entry(uuid.uuid4(), uuid.uuid4(), "gammal@exempel.se", "email",
                                       utc_now() - timedelta(days=10))
    new = services.rights.ledger.entry(uuid.uuid4(), uuid.uuid4(), "ny@exempel.se", "self_service", utc_now())
    async with services.db.transaction() as session:
        for entry in (old, new):
            assert await services.rights.ledger.record(session, entry)
        assert not await services.rights.ledger.record(session, new)  # one entry per request
    since = (utc_now() - timedelta(days=1)).date().isoformat()
    out = io.StringIO()
    assert await anyio.to_thread.run_sync(lambda: ledger_commands.export_ledger(since, out, settings)) == 0
    exported = out.getvalue().splitlines()
    assert [json.loads(line)["requestId"] for line in exported] == [str(new.request_id)]
    assert json.loads(exported[0]).keys() == {"format", "requestId", "subjectId", "emailHash", "erasedAt",
                                              "channel", "signature"}
    path = settings.mail_outbox_dir.parent / "exported.jsonl"
    path.write_text(out.getvalue())
    assert ledger_file.read(path, ledger_file.LedgerKey(TEST_SECRET)).entries == (new,)
    status, result = await reapply(services, path)
    assert status == 0 and result["alreadyGone"] == 1


@pytest.mark.policy("P11")
async def test_p11_ledger_rows_are_kept_as_long_as_backups_and_no_longer(
    database_url: str, tmp_path: Path
) -> None:
    services = build_services(make_settings(database_url, tmp_path, backup_retention_days=30))
    try:
        old = services.rights.ledger.entry(uuid.uuid4(), uuid.uuid4(), "a@exempel.se", "email",
                                           utc_now() - timedelta(days=31))
        kept = services.rights.ledger.entry(uuid.uuid4(), uuid.uuid4(), "b@exempel.se", "email",
                                            utc_now() - timedelta(days=29))
        async with services.db.transaction() as session:
            for entry in (old, kept):
                await services.rights.ledger.record(session, entry)
        result = await services.retention.run()
        assert result.steps["erasure_ledger"] == 1
        assert [r.request_id for r in await ledger_rows(services)] == [kept.request_id]
    finally:
        await services.mailer.flush()
        await services.close()


@pytest.mark.policy("P24")
def test_p24_the_rights_commands_answer_by_exit_status(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from shop_privacy.storage.migrate import upgrade

    database = tmp_path / "restored.db"
    upgrade(f"sqlite:///{database}")
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SHOP_PRIVACY_")},
           "DATABASE_URL": f"sqlite:///{database}", "SHOP_PRIVACY_SECRET_KEY": TEST_SECRET,
           "SHOP_PRIVACY_MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    key = ledger_file.LedgerKey(TEST_SECRET)
    entry = ledger_file.LedgerEntry(uuid.uuid4(), uuid.uuid4(), "0" * 64, utc_now(), "email")
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text(ledger_file.line_of(entry, key) + "\n")

    def shop_privacy(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shop_privacy.cli", "rights", *args], capture_output=True,
                              text=True, env={**env, **({"DATABASE_URL": database_url} if database_url else {})},
                              cwd=tmp_path, timeout=120)

    done = shop_privacy("reapply", "--ledger", str(ledger))
    assert done.returncode == 0, done.stderr
    assert "already gone" in done.stdout and "erased again" in done.stdout
    exported = shop_privacy("ledger", "export", "--since", "2020-01-01")
    assert exported.returncode == 0 and json.loads(exported.stdout)["requestId"] == str(entry.request_id)

    record = json.loads(ledger.read_text())
    record["erasedAt"] = utc_now().isoformat()
    ledger.write_text(json.dumps(record) + "\n")
    refused = shop_privacy("reapply", "--ledger", str(ledger))
    assert refused.returncode == 1 and "REFUSED line 1: bad signature" in refused.stdout

    not_migrated = shop_privacy("reapply", "--ledger", str(ledger), database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert not_migrated.returncode == 2 and "not run" in not_migrated.stderr and "Traceback" not in not_migrated.stderr
    missing = shop_privacy("reapply", "--ledger", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


@pytest.mark.policy("P24")
async def test_p24_an_erasure_completes_when_the_ledger_file_cannot_be_written_and_says_so_by_id(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = build_services(make_settings(database_url, tmp_path,
                                            erasure_ledger_file=tmp_path / "no-such-directory" / "ledger.jsonl"))
    try:
        customer = await create_customer(services, "ofullstandig@exempel.se")
        request = await erase_by_dpo(services, customer)
        assert request.status == "completed" and await account_with(services, "ofullstandig@exempel.se") is None
        assert [r.request_id for r in await ledger_rows(services)] == [request.id]
        logged = [r.getMessage() for r in caplog.records if r.name == "shop_privacy.rights.ledger"]
        assert len(logged) == 1 and str(request.id) in logged[0] and "ofullstandig" not in logged[0]
    finally:
        await services.mailer.flush()
        await services.close()
