"""The mailer: composes a mail and hands it to the backend (SMTP, or a development folder). Account
mails reach it through the durable queue (`mail/queue.py`), which retries until the server takes them;
work it starts runs in the background, after the request's transaction, so how long delivery takes
reveals nothing (e.g. whether an account exists). Bodies are never logged.

Headers: a recipient's name is RFC 2047-encoded (email.headerregistry), an address with a non-ASCII
local part goes out as SMTPUTF8 (RFC 6531) rather than as an encoded word, which would break it, and
List-Unsubscribe stays a plain ASCII URL on one line, never an encoded word (RFC 2369, RFC 8058)."""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import anyio
import idna

logger = logging.getLogger("shop_privacy.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    kind: str  # e.g. "password_reset": what the logs say instead of the content
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    to_name: str | None = None  # the recipient's name, in any script


# RFC 5322's hard limit on a line: headers are folded only past it, so a URL is never split or encoded.
_POLICY = default_policy.clone(max_line_length=998)
# Headers whose value is one or more <URL>s that mail clients act on: ASCII only, never encoded.
_URL_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


def ascii_url(url: str) -> str:
    """`url` in ASCII: the host in IDNA, the rest percent-encoded where it is not already ASCII."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if host and not host.isascii():
        netloc = parts.netloc.replace(host, idna.encode(host, uts46=True).decode("ascii"))
    else:
        netloc = parts.netloc
    safe = "/?&=;:@!$'()*+,%-._~"
    return urlunsplit((parts.scheme, quote(netloc, safe=safe + "[]"), quote(parts.path, safe=safe),
                       quote(parts.query, safe=safe), quote(parts.fragment, safe=safe)))


def _url_header(name: str, value: str) -> str:
    if name.lower() == "list-unsubscribe":
        return ", ".join(f"<{ascii_url(url)}>" for url in re.findall(r"<([^>]*)>", value))
    if not value.isascii():
        raise ValueError(f"{name} must be ASCII")
    return value


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
        temporary.write_bytes(as_bytes(message))
        temporary.replace(self.directory / name)  # readers never see half a file


def as_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over the wire: as SMTPUTF8 (what smtplib does) if an address needs it."""
    addresses = [address for name in ("From", "To") for address in getattr(message[name], "addresses", ())]
    international = any(not address.addr_spec.isascii() for address in addresses)
    return message.as_bytes(policy=message.policy.clone(utf8=True) if international else message.policy)


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
        """Deliver a mail in the background, best effort: a few quick retries, then it is dropped. Only for
        mail that may be lost but must never go late (a marketing mail, whose consent was checked just now);
        account mails go through the durable queue instead."""
        self.in_background(self._deliver_with_retries(mail))

    async def deliver(self, mail: Mail) -> None:
        """Hand one mail to the backend now; raises if the backend does not take it."""
        await anyio.to_thread.run_sync(self._backend.deliver, self._compose(mail))
        logger.info("mail delivered id=%s kind=%s", mail.id, mail.kind)

    def in_background(self, work: Coroutine[Any, Any, object]) -> None:
        """Run mail work as a task of its own that `flush` waits for."""
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until the background work is done (tests; shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver_with_retries(self, mail: Mail) -> None:
        for attempt in range(1, 4):
            try:
                await self.deliver(mail)
                return
            except Exception as error:  # noqa: BLE001 - any delivery failure is retried, then logged
                logger.warning("mail delivery failed id=%s kind=%s attempt=%d error=%s",
                               mail.id, mail.kind, attempt, type(error).__name__)
                await asyncio.sleep(0.5 * 2**attempt)
        logger.error("mail dropped after retries id=%s kind=%s", mail.id, mail.kind)

    def _compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage(policy=_POLICY)
        message["From"] = self._sender
        local_part, _, domain = mail.to.rpartition("@")
        # username/domain rather than addr_spec: the parser refuses a non-ASCII local part (SMTPUTF8).
        message["To"] = Address(display_name=mail.to_name or "", username=local_part, domain=domain)
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=_message_id_domain(self._sender))
        message["X-Shop-Mail-Id"] = mail.id
        message["X-Shop-Mail-Kind"] = mail.kind
        for name, value in mail.headers.items():
            message[name] = _url_header(name, value) if name.lower() in _URL_HEADERS else value
        message.set_content(mail.text)
        return message


def _message_id_domain(sender: str) -> str | None:
    """The sender's domain, in ASCII, from "Name <address>" or a bare address."""
    domain = parseaddr(sender)[1].rpartition("@")[2].strip()
    if not domain:
        return None
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None
