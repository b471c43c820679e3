"""The mailer: SMTP when configured, otherwise the development outbox; bodies never logged."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from shop_privacy.mail.mailer import Mail, Mailer, OutboxFolder, Smtp

pytestmark = pytest.mark.anyio


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope) -> str:  # noqa: ANN001, N802
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Recorder, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorder = _Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


async def test_mail_goes_over_smtp_when_configured(
    smtp_server: tuple[_Recorder, int], caplog: pytest.LogCaptureFixture
) -> None:
    recorder, port = smtp_server
    mailer = Mailer(Smtp(f"smtp+plain://127.0.0.1:{port}"), "no-reply@shop.example")
    with caplog.at_level(logging.DEBUG):
        mailer.send(Mail(to="anna@exempel.se", subject="Hej", text="secret link https://x/?token=abc", kind="test"))
        await mailer.flush()
    ((sender, recipients, content),) = recorder.messages
    assert sender == "no-reply@shop.example" and recipients == ["anna@exempel.se"]
    assert b"token=abc" in content
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("shop_privacy"))
    assert "kind=test" in ours
    assert "token=abc" not in ours and "anna@exempel.se" not in ours


async def test_without_smtp_mail_lands_in_the_outbox_folder(tmp_path) -> None:  # noqa: ANN001
    mailer = Mailer(OutboxFolder(tmp_path / "outbox"), "no-reply@shop.example")
    mailer.send(Mail(to="anna@exempel.se", subject="Hej", text="body", kind="test"))
    await mailer.flush()
    (file,) = (tmp_path / "outbox").glob("*.eml")
    assert b"anna@exempel.se" in file.read_bytes()


def test_plain_smtp_only_to_a_local_relay() -> None:
    with pytest.raises(ValueError, match="localhost"):
        Smtp("smtp+plain://mail.example.com:25")
    with pytest.raises(ValueError):
        Smtp("http://mail.example.com")
