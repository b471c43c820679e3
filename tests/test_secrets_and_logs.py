"""Secrets and logs (P21): a settings error never echoes a value, link tokens never reach the server's
access log, and mail headers are encoded as the RFCs require (names RFC 2047, List-Unsubscribe plain
ASCII as RFC 8058 requires)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.mail.mailer import Mail, Mailer, OutboxFolder
from shop_privacy.services import Services
from shop_privacy.settings import Settings
from shop_privacy.web.middleware import ACCESS_LOGGER, RedactAccessLine, redact_tokens

from .helpers import create_customer

pytestmark = pytest.mark.anyio

# Long enough for production; its tail is what the old error message showed.
SECRET = "prod-secret-0123456789abcdef-TAIL-MUST-NOT-SHOW"


def _shown(error: BaseException) -> str:
    return f"{error}\n{error!r}"


# Settings errors


@pytest.mark.policy("P21")
def test_p21_a_settings_error_names_each_variable_once_and_never_a_value(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as missing_smtp:
        Settings(environment="production", secret_key=SECRET, database_url=f"sqlite:///{tmp_path}/x.db")
    assert str(missing_smtp.value).splitlines() == ["SHOP_PRIVACY_SMTP_URL: must be set in production"]
    assert "TAIL" not in _shown(missing_smtp.value) and "sqlite" not in _shown(missing_smtp.value)

    # Every problem at once, field errors and production requirements alike.
    with pytest.raises(ValidationError) as several:
        Settings(environment="production", secret_key="short-TAIL", password_time_cost=1,
                 session_touch_interval_seconds=0)
    lines = str(several.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "SHOP_PRIVACY_PASSWORD_TIME_COST", "SHOP_PRIVACY_SESSION_TOUCH_INTERVAL_SECONDS",
        "SHOP_PRIVACY_SECRET_KEY", "SHOP_PRIVACY_SMTP_URL",
    ]
    assert "TAIL" not in _shown(several.value)
    assert all(issue["input"] is None for issue in several.value.errors())


@pytest.fixture
def production_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    for name in list(os.environ):
        if name.startswith("SHOP_PRIVACY_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    values = {"SHOP_PRIVACY_ENV": "production", "SHOP_PRIVACY_SECRET_KEY": SECRET,
              "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values


@pytest.mark.policy("P21")
def test_p21_creating_the_app_from_the_environment_fails_with_a_clear_message_without_values(
    production_environment: dict[str, str],
) -> None:
    with pytest.raises(ValidationError) as error:
        create_app()
    assert "SHOP_PRIVACY_SMTP_URL: must be set in production" in str(error.value)
    assert SECRET not in _shown(error.value) and "TAIL" not in _shown(error.value)


@pytest.mark.policy("P21")
def test_p21_the_cli_reports_settings_problems_as_plain_lines_without_values(
    production_environment: dict[str, str],
) -> None:
    env = {**os.environ, "SHOP_PRIVACY_PASSWORD_MEMORY_KIB": "1024"}
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "db", "current"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "shop-privacy: configuration error:",
        "SHOP_PRIVACY_PASSWORD_MEMORY_KIB: Input should be greater than or equal to 19456",
        "SHOP_PRIVACY_SMTP_URL: must be set in production",
    ]
    assert "TAIL" not in result.stdout + result.stderr and "1024" not in result.stderr


# The access log


def _uvicorn_record(path: str) -> logging.LogRecord:
    """An access log record as uvicorn makes it (protocols/http/h11_impl.py)."""
    return logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
                             ("203.0.113.7:51234", "GET", path, "1.1", 200), None)


@pytest.mark.policy("P07")
@pytest.mark.policy("P21")
def test_p07_p21_the_access_line_shows_no_client_address_token_path_or_token_query_value() -> None:
    cases = {
        "/export/eyJyIjoiYWJjIn0.ZZ-x_1.sig?x=1": '"GET /export/[redacted]?x=1 HTTP/1.1" 200',
        "/shop/unsubscribe/eyJjIjoiMSJ9.abc": '"GET /shop/unsubscribe/[redacted] HTTP/1.1" 200',
        "/reset-password?token=abc.def&lang=sv": '"GET /reset-password?token=[redacted]&lang=sv HTTP/1.1" 200',
        "/verify-email?lang=sv&token=abc": '"GET /verify-email?lang=sv&token=[redacted] HTTP/1.1" 200',
        "/graphql": '"GET /graphql HTTP/1.1" 200',
    }
    for path, expected in cases.items():
        record = _uvicorn_record(path)
        assert RedactAccessLine().filter(record)
        assert record.getMessage() == f"- - {expected}"  # uvicorn's text format, the address left out
    assert redact_tokens("/health") == "/health"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.policy("P21")
async def test_p21_export_unsubscribe_and_reset_tokens_never_reach_uvicorns_access_log(app: Starlette) -> None:
    # The server as `shop-privacy serve` runs it: uvicorn's own logging set-up, its access log on.
    config = uvicorn.Config(app, lifespan="off", access_log=True, http="h11", log_level="info")
    lines = _Lines()
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(lines)
    server = uvicorn.Server(config)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # connections queue here until the server accepts them: nothing to wait for
        port = sock.getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                await http.get("/export/EXPORTTOKEN.abc-def?lang=sv")
                await http.get("/unsubscribe/UNSUBTOKEN.xyz")
                await http.post("/unsubscribe/UNSUBTOKEN.xyz", content=b"List-Unsubscribe=One-Click")
                await http.get("/reset-password?token=RESETTOKEN.123")
                await http.get("/health")
        finally:
            server.should_exit = True
            await serving
            access.removeHandler(lines)
    assert len(lines.lines) == 5, lines.lines
    logged = "\n".join(lines.lines)
    assert "TOKEN" not in logged
    assert "/export/[redacted]?lang=sv" in logged and "/unsubscribe/[redacted]" in logged
    assert "/reset-password?token=[redacted]" in logged and "/health" in logged


# Mail headers


def _eml(directory: Path) -> tuple[bytes, email.message.EmailMessage]:
    (file,) = directory.glob("*.eml")
    raw = file.read_bytes()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _header_block(raw: bytes) -> bytes:
    return raw.split(b"\n\n", 1)[0]


@pytest.mark.policy("P21")
async def test_p21_a_recipients_name_in_any_script_is_rfc_2047_encoded(tmp_path: Path) -> None:
    mailer = Mailer(OutboxFolder(tmp_path), "Exempel Åkeri AB <no-reply@exempel.se>")
    mailer.send(Mail(to="asa@exempel.se", to_name="Åsa Öberg-Ђорђевић", subject="Hej Åsa", text="Hej!", kind="test"))
    await mailer.flush()
    raw, parsed = _eml(tmp_path)
    assert _header_block(raw).isascii()
    (recipient,) = parsed["To"].addresses
    assert (recipient.display_name, recipient.addr_spec) == ("Åsa Öberg-Ђорђевић", "asa@exempel.se")
    assert parsed["From"].addresses[0].display_name == "Exempel Åkeri AB"
    assert parsed["Message-ID"].endswith("@exempel.se>")
    assert parsed["Subject"] == "Hej Åsa"


@pytest.mark.policy("P21")
async def test_p21_an_address_with_a_non_ascii_local_part_is_sent_as_smtputf8_not_as_an_encoded_word(
    tmp_path: Path,
) -> None:
    mailer = Mailer(OutboxFolder(tmp_path), "no-reply@exempel.se")
    mailer.send(Mail(to="åsa@exempel.se", subject="Hej", text="Hej!", kind="test"))
    await mailer.flush()
    raw, _ = _eml(tmp_path)
    assert b"=?" not in _header_block(raw)
    parsed = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "åsa@exempel.se"


@pytest.mark.policy("P21")
async def test_p21_list_unsubscribe_stays_a_plain_ascii_url_as_rfc_8058_requires(
    services: Services, tmp_path: Path, unique_email: str
) -> None:
    from shop_privacy.marketing.mails import marketing_mail

    customer_id = await create_customer(services, unique_email)
    mail = marketing_mail(services.unsubscribe_links, to=unique_email, customer_id=customer_id, purpose="marketing",
                          language="sv", subject="Din varukorg väntar", text="Hej!")
    url = services.unsubscribe_links.url(customer_id, "marketing")
    assert len(url) > 78  # longer than a folded line: the old mailer encoded it as RFC 2047 words
    mailer = Mailer(OutboxFolder(tmp_path), "no-reply@exempel.se")
    mailer.send(mail)
    await mailer.flush()
    raw, parsed = _eml(tmp_path)
    headers = _header_block(raw)
    assert headers.isascii()
    assert f"\nList-Unsubscribe: <{url}>\n".encode() in headers
    assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in headers
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.policy("P21")
async def test_p21_an_unsubscribe_url_on_an_international_domain_is_sent_in_ascii(tmp_path: Path) -> None:
    mailer = Mailer(OutboxFolder(tmp_path), "no-reply@exempel.se")
    mailer.send(Mail(to="anna@exempel.se", subject="Hej", text="Hej!", kind="test",
                     headers={"List-Unsubscribe": "<https://bläbär.se/unsubscribe/ÅÄÖ.abc>",
                              "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}))
    await mailer.flush()
    raw, parsed = _eml(tmp_path)
    assert _header_block(raw).isascii()
    assert parsed["List-Unsubscribe"] == "<https://xn--blbr-moab.se/unsubscribe/%C3%85%C3%84%C3%96.abc>"
