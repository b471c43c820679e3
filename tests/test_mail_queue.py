"""The durable queue of account mails (P22, P24): a mail is written with the change it reports, waits
out a mail server that is down or a process that died, goes out once, and its content goes soon after."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import anyio
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import true
from sqlmodel import col, select

from shop_privacy.app import create_app
from shop_privacy.cli import main as cli_main
from shop_privacy.mail.mailer import Mail
from shop_privacy.mail.report import status_lines
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings
from shop_privacy.storage.database import Database
from shop_privacy.storage.tables import AccountMail
from shop_privacy.storage.types import utc_now

from .conftest import client_for, make_settings
from .helpers import PASSWORD, create_customer, login
from .servers import free_port

pytestmark = pytest.mark.anyio

REQUEST_ERASURE = """mutation($password: String) { requestErasure(password: $password) { id status } }"""
REQUEST_RESET = """mutation($email: String!) { requestPasswordReset(email: $email) { accepted } }"""


class _SmtpRecorder:
    """A real SMTP server's handler (aiosmtpd): keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope) -> str:  # noqa: ANN001, N802
        self.messages.append(BytesParser(policy=default_policy).parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 OK"

    def kinds_to(self, address: str) -> list[str]:
        return [str(m["X-Shop-Mail-Kind"]) for m in self.messages if address in str(m["To"])]


class _Backend:
    """A mail server that is up or down, and remembers each mail it accepted (by its id), thread-safely."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.accepted: list[str] = []
        self._lock = threading.Lock()

    def deliver(self, message: EmailMessage) -> None:
        if self.down:
            raise ConnectionRefusedError("the mail server is down")
        with self._lock:
            self.accepted.append(str(message["X-Shop-Mail-Id"]))


@pytest.fixture
async def queue_services(settings: Settings) -> AsyncIterator[tuple[Services, _Backend]]:
    backend = _Backend()
    built = build_services(make_settings(settings.database_url, settings.mail_outbox_dir.parent, mail_max_attempts=3),
                           db=Database(settings.database_url), mail_backend=backend)
    yield built, backend
    await built.close()


async def _mails(services: Services) -> list[AccountMail]:
    async with services.db.read() as session:
        return list((await session.exec(select(AccountMail).order_by(col(AccountMail.created_at)))).all())


def _no_kick(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies right after the commit: the request's own delivery attempt never starts."""
    monkeypatch.setattr(services.mail_queue, "kick", lambda ids: None)


async def _run_cli(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, smtp_url: str,
                   *argv: str) -> int:
    """`shop-privacy …` as cron runs it: its own process state, its own event loop (in a thread here)."""
    for name, value in {"DATABASE_URL": database_url, "SHOP_PRIVACY_SMTP_URL": smtp_url,
                        "SHOP_PRIVACY_RECIPIENT_OUTBOX_DIR": str(tmp_path / "recipients"),
                        "SHOP_PRIVACY_MAIL_OUTBOX_DIR": str(tmp_path / "cli-mail")}.items():
        monkeypatch.setenv(name, value)
    return int(await anyio.to_thread.run_sync(cli_main, list(argv)))


@pytest.fixture
def smtp_port() -> Iterator[int]:
    yield free_port()


@pytest.mark.policy("P24")
async def test_p24_smtp_down_at_request_time_the_erasure_mail_waits_and_outbox_run_delivers_it(
    database_url: str, tmp_path: Path, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's mailer gave up after three quick tries and the mail was gone; now it waits in the queue."""
    smtp_url = f"smtp+plain://127.0.0.1:{smtp_port}"
    settings = make_settings(database_url, tmp_path, smtp_url=smtp_url)
    services = build_services(settings)
    app = create_app(settings, services=services)
    email = f"radera.{uuid.uuid4().hex[:8]}@exempel.se"
    async with app.router.lifespan_context(app):
        await create_customer(services, email)
        client = client_for(app)
        (await login(client, email)).ok()
        # Nothing listens on the port: the mail server is down while the customer is erased.
        erased = (await client.gql(REQUEST_ERASURE, {"password": PASSWORD})).ok()["requestErasure"]
        assert erased["status"] == "COMPLETED"
        await services.mailer.flush()
        await client.http.aclose()
    await services.close()

    recorder = _SmtpRecorder()
    server = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    server.start()  # the mail server is back
    try:
        assert await _run_cli(monkeypatch, database_url, tmp_path, smtp_url, "outbox", "run", "--once") == 0
    finally:
        server.stop()
    assert recorder.kinds_to(email) == ["erasure_done"]


@pytest.mark.policy("P24")
async def test_p24_smtp_down_the_mail_stays_queued_with_its_error_and_the_worker_sends_it_when_back(
    queue_services: tuple[Services, _Backend], unique_email: str, caplog: pytest.LogCaptureFixture
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)
    backend.down = True
    with caplog.at_level(logging.INFO, logger="shop_privacy"):
        outcome = await services.rights.erase_if_still(customer_id, true(), _channel())
        await services.mailer.flush()
    assert outcome.value == "erased"
    (mail,) = await _mails(services)
    assert (mail.kind, mail.status, mail.attempts, mail.last_error) == ("erasure_done", "queued", 1,
                                                                       "ConnectionRefusedError")
    assert mail.customer_id is None and mail.recipient == unique_email  # tied to no account: there is none
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert mail.id.hex in logged or str(mail.id) in logged
    assert unique_email not in logged  # logs carry ids, never addresses

    # Still down at the worker's round: it backs off, and the mail is not due again before that.
    now = utc_now()
    assert (await services.mail_queue.run_once(now=now)).retried == 1
    assert (await services.mail_queue.run_once(now=now + timedelta(seconds=1))).idle
    backend.down = False
    later = now + services.mail_queue.backoff.retry_after(2) + timedelta(seconds=1)
    assert (await services.mail_queue.run_once(now=later)).sent == 1
    assert backend.accepted == [mail.id.hex]
    (mail,) = await _mails(services)
    assert mail.status == "sent" and mail.sent_at is not None and mail.attempts == 3


def _channel():  # noqa: ANN202
    from shop_privacy.rights.requests import Channel

    return Channel.EMAIL


@pytest.mark.policy("P22")
async def test_p22_a_crash_between_the_commit_and_the_send_leaves_the_export_link_for_the_worker(
    queue_services: tuple[Services, _Backend], unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)
    staff = await services.staff.create({"email": f"dpo.{uuid.uuid4().hex[:6]}@shop.example", "display_name": "Dana",
                                         "role": "dpo", "password": "Personal-Lösen-För-Stab-7"})
    _no_kick(services, monkeypatch)
    from shop_privacy.rights.requests import Channel, RequestKind

    request = await services.rights.register(staff.id, customer_id, RequestKind.EXPORT, "BankID",
                                             channel=Channel.IN_PERSON)
    assert (await services.rights.run(request.id)).status == "completed"
    await services.mailer.flush()
    assert backend.accepted == []  # the process "died" before its attempt
    (mail,) = await _mails(services)
    assert (mail.kind, mail.status, mail.customer_id) == ("data_export", "queued", customer_id)

    run = await services.mail_queue.run_until_idle()  # the worker, after the restart
    assert (run.sent, run.retried, run.failed) == (1, 0, 0)
    assert backend.accepted == [mail.id.hex]
    assert (await services.mail_queue.run_until_idle()).idle  # and only once


@pytest.mark.policy("P24")
async def test_p24_a_change_that_rolls_back_leaves_no_mail(
    queue_services: tuple[Services, _Backend], unique_email: str
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)
    with pytest.raises(RuntimeError, match="after the mail was queued"):
        async with services.db.transaction() as session:
            services.mail_queue.enqueue(session, Mail(to=unique_email, subject="Hej", text="Hej!", kind="erasure_done"),
                                        customer_id=customer_id)
            raise RuntimeError("the change failed after the mail was queued")
    await services.mailer.flush()
    assert await _mails(services) == []
    assert (await services.mail_queue.run_until_idle()).idle
    assert backend.accepted == []


@pytest.mark.policy("P24")
async def test_p24_an_erasure_that_fails_half_way_sends_no_erasure_mail(
    queue_services: tuple[Services, _Backend], unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)

    async def disk_full(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The last step of the erasure, after its mail is queued, fails: the whole erasure rolls back.
    monkeypatch.setattr(services.rights._disclosures, "notify", disk_full)
    with pytest.raises(RuntimeError):
        await services.rights.erase_if_still(customer_id, true(), _channel())
    await services.mailer.flush()
    assert await _mails(services) == [] and backend.accepted == []


@pytest.mark.policy("P24")
async def test_p24_an_erasure_mail_the_server_keeps_refusing_is_marked_failed_and_outbox_status_shows_it(
    queue_services: tuple[Services, _Backend], unique_email: str, database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)
    backend.down = True
    await services.rights.erase_if_still(customer_id, true(), _channel())
    await services.mailer.flush()  # attempt 1, right after the erasure's commit
    now = utc_now()
    assert (await services.mail_queue.run_once(now=now)).retried == 1  # attempt 2
    third = await services.mail_queue.run_once(now=now + timedelta(days=1))  # attempt 3 of 3
    assert (third.sent, third.retried, third.failed) == (0, 0, 1)
    (mail,) = await _mails(services)
    assert (mail.status, mail.attempts, mail.failed_at is not None) == ("failed", 3, True)
    assert (await services.mail_queue.run_once(now=now + timedelta(days=30))).idle  # given up: no more tries

    status = await services.mail_queue.status()
    assert status.counts == {"failed": 1} and [f.id for f in status.failed] == [mail.id]
    lines = "\n".join(status_lines(status))
    assert str(mail.id) in lines and "kind=erasure_done" in lines and unique_email not in lines

    capsys.readouterr()
    assert await _run_cli(monkeypatch, database_url, tmp_path, "smtp+plain://127.0.0.1:1", "outbox", "status") == 0
    printed = capsys.readouterr().out
    assert str(mail.id) in printed and "failed" in printed and unique_email not in printed


@pytest.mark.policy("P24")
async def test_p24_two_workers_at_once_send_each_mail_once(
    queue_services: tuple[Services, _Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, backend = queue_services
    _no_kick(services, monkeypatch)
    async with services.db.transaction() as session:
        ids = [services.mail_queue.enqueue(session, Mail(to=f"kund{i}@exempel.se", subject="Hej", text="Hej!",
                                                         kind="password_changed"), customer_id=None)
               for i in range(40)]
    # A second worker: another process, with its own connections.
    other = build_services(services.settings, db=Database(services.settings.database_url), mail_backend=backend)
    try:
        runs = await asyncio.gather(services.mail_queue.run_until_idle(batch=7),
                                    other.mail_queue.run_until_idle(batch=7))
    finally:
        await other.close()
    assert sorted(backend.accepted) == sorted(i.hex for i in ids)  # every mail, each once
    assert sum(run.sent for run in runs) == 40
    assert {m.status for m in await _mails(services)} == {"sent"}


@pytest.mark.policy("P24")
async def test_p24_the_request_attempt_and_a_worker_at_once_send_a_mail_once(
    queue_services: tuple[Services, _Backend], unique_email: str
) -> None:
    services, backend = queue_services
    await create_customer(services, unique_email)
    other = build_services(services.settings, db=Database(services.settings.database_url), mail_backend=backend)
    try:
        # The request's own attempt (kicked at its commit) races the cron worker.
        await services.credentials.request_reset({"email": unique_email})
        await other.mail_queue.run_until_idle()
        await services.mailer.flush()
    finally:
        await other.close()
    (mail,) = await _mails(services)
    assert backend.accepted == [mail.id.hex] and mail.status == "sent"


@pytest.mark.policy("P24")
async def test_p24_erasure_deletes_the_customers_queued_mails_but_its_own_confirmation_goes_out(
    queue_services: tuple[Services, _Backend], unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, backend = queue_services
    customer_id = await create_customer(services, unique_email)
    other_customer = await create_customer(services, f"annan.{uuid.uuid4().hex[:6]}@exempel.se")
    _no_kick(services, monkeypatch)
    await services.credentials.request_reset({"email": unique_email})  # queued, not sent: the server is slow
    async with services.db.transaction() as session:
        services.mail_queue.enqueue(session, Mail(to="annan@exempel.se", subject="Hej", text="Hej!",
                                                  kind="password_changed"), customer_id=other_customer)
    outcome = await services.rights.erase_if_still(customer_id, true(), _channel())
    assert outcome.value == "erased"
    mails = await _mails(services)
    # The reset link to the erased customer is gone; another customer's mail is untouched.
    assert sorted((m.kind, m.customer_id == other_customer) for m in mails) == [
        ("erasure_done", False), ("password_changed", True)]
    assert all(m.customer_id is None or m.customer_id == other_customer for m in mails)
    await services.mail_queue.run_until_idle()
    sent = {m.kind for m in await _mails(services) if m.id.hex in backend.accepted}
    assert sent == {"erasure_done", "password_changed"}


@pytest.mark.policy("P24")
async def test_p24_the_retention_sweep_clears_sent_and_failed_mail_contents_after_the_setting(
    queue_services: tuple[Services, _Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, backend = queue_services
    _no_kick(services, monkeypatch)

    async def queue(to: str) -> uuid.UUID:
        async with services.db.transaction() as session:
            return services.mail_queue.enqueue(session, Mail(to=to, subject="Hej", text="Länk: https://x/?token=abc",
                                                             kind="password_reset"), customer_id=None)

    sent = await queue("skickat@exempel.se")
    await services.mail_queue.run_until_idle()
    backend.down = True
    failed = await queue("misslyckat@exempel.se")
    now = utc_now()
    for day in range(3):
        await services.mail_queue.run_once(now=now + timedelta(days=day))
    waiting = await queue("vantar@exempel.se")
    keep_days = services.settings.retention_sent_mail_days

    early = await services.retention.run(now=now + timedelta(days=keep_days) - timedelta(hours=1))
    assert early.steps["sent_mail_contents"] == 0
    result = await services.retention.run(now=now + timedelta(days=keep_days + 3))
    assert result.steps["sent_mail_contents"] == 2 and result.as_json()["steps"]["sent_mail_contents"] == 2
    by_id = {m.id: m for m in await _mails(services)}
    assert (by_id[sent].status, by_id[failed].status, by_id[waiting].status) == ("sent", "failed", "queued")
    for cleared in (by_id[sent], by_id[failed]):
        assert (cleared.recipient, cleared.subject, cleared.body, cleared.headers) == (None,) * 4
    assert by_id[waiting].body and by_id[waiting].recipient == "vantar@exempel.se"  # still to be delivered
    # The bare records (no address, no text) go a month later; the queued mail never goes by age.
    last = await services.retention.run(now=now + timedelta(days=31))
    assert last.steps["sent_mail_records"] == 2
    assert [m.id for m in await _mails(services)] == [waiting]


class _HeldBackend:
    """Takes a mail only once the test lets it: the request's delivery attempt is in flight meanwhile."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.accepted: list[str] = []

    def deliver(self, message: EmailMessage) -> None:
        self.started.set()
        self.release.wait(timeout=30)
        self.accepted.append(str(message["X-Shop-Mail-Id"]))


@pytest.mark.policy("P24")
async def test_p24_closing_the_services_waits_for_a_mail_attempt_in_flight_before_closing_the_database(
    settings: Settings,
) -> None:
    """Disposing the database under the attempt left its connection checked out (on SQLite, its lock):
    `Services.close()` is what the app's shutdown, the CLI and the tests call."""
    backend = _HeldBackend()
    db = Database(settings.database_url)
    built = build_services(settings, db=db, mail_backend=backend)
    mail = Mail(to="kund@exempel.se", subject="Kvitto", text="Tack.", kind="password_reset")
    async with built.db.transaction() as session:
        built.mail_queue.enqueue(session, mail, customer_id=None)
    await anyio.to_thread.run_sync(backend.started.wait, 30)  # the attempt is at the mail server now
    events: list[str] = []
    dispose = db.dispose

    async def recorded_dispose() -> None:
        events.append(f"disposed after {len(backend.accepted)} delivered")
        await dispose()

    db.dispose = recorded_dispose  # type: ignore[method-assign]
    closing = asyncio.ensure_future(built.close())
    await anyio.to_thread.run_sync(backend.release.set)
    await closing
    assert backend.accepted == [mail.id] and events == ["disposed after 1 delivered"]
    assert not built.mailer._pending
    (row,) = await _mails(built)  # the attempt recorded the delivery before the database was closed
    assert row.status == "sent"
    await built.close()
