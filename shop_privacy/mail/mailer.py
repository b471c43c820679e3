"""The mailer. Delivery runs after the request's transaction, in the background, so how long it
takes reveals nothing (e.g. whether an account exists). Bodies are never logged."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import anyio

logger = logging.getLogger("shop_privacy.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    kind: str  # e.g. "password_reset": what the logs say instead of the content
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class MailBackend(Protocol):
    def deliver(self, message: EmailMessage) -> None: ...


class OutboxFolder:
    """Development and tests: each mail is an .eml file in a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{message['X-Shop-Mail-Id']}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(message.as_bytes())
        temporary.replace(self.directory / name)  # readers never see half a file


class Smtp:
    """smtp://user:password@host:587 (STARTTLS, required), smtps://user:password@host:465 (TLS),
    or smtp+plain://localhost:25 for a relay on the same host (no TLS: never across a network)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps", "smtp+plain"} or not parts.hostname:
            raise ValueError("SMTP URL must look like smtp://user:password@host:587")
        if parts.scheme == "smtp+plain" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
            raise ValueError("smtp+plain:// is only for a relay on localhost")
        self._implicit_tls = parts.scheme == "smtps"
        self._starttls = parts.scheme == "smtp"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._implicit_tls else 25 if parts.scheme == "smtp+plain" else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None

    def deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self._implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self._host, self._port, context=context, timeout=30)
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=30)
        with client:
            if self._starttls:
                client.starttls(context=context)
            if self._user:
                client.login(self._user, self._password or "")
            client.send_message(message)


class Mailer:
    def __init__(self, backend: MailBackend, sender: str) -> None:
        self._backend = backend
        self._sender = sender
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, mail: Mail) -> None:
        """Queue a mail for delivery in the background (call after the data it refers to is committed)."""
        task = asyncio.get_running_loop().create_task(self._deliver(mail))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until every queued mail is delivered (tests; shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver(self, mail: Mail) -> None:
        message = self._compose(mail)
        for attempt in range(1, 4):
            try:
                await anyio.to_thread.run_sync(self._backend.deliver, message)
                logger.info("mail delivered id=%s kind=%s", mail.id, mail.kind)
                return
            except Exception as error:  # noqa: BLE001 - any delivery failure is retried, then logged
                logger.warning("mail delivery failed id=%s kind=%s attempt=%d error=%s",
                               mail.id, mail.kind, attempt, type(error).__name__)
                await asyncio.sleep(0.5 * 2**attempt)
        logger.error("mail dropped after retries id=%s kind=%s", mail.id, mail.kind)

    def _compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message["X-Shop-Mail-Id"] = mail.id
        message["X-Shop-Mail-Kind"] = mail.kind
        for name, value in mail.headers.items():
            message[name] = value
        message.set_content(mail.text)
        return message
