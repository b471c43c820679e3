"""Delivering the outbox: at least once, with backoff, and nothing lost if the worker dies.

A worker claims due messages by pushing their next attempt a lease into the future (in its own short
transaction, `SKIP LOCKED` on PostgreSQL so workers never block each other), delivers each through the
recipient's adapter, then marks it delivered and drops its payload. A worker that dies mid-delivery
leaves its claimed messages due again once the lease has passed; adapters must therefore accept a
message twice (each carries its id for that).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import anyio
from sqlalchemy import update
from sqlmodel import col, select

from ..backoff import Backoff
from ..storage.database import Database
from ..storage.tables import OutboxMessage
from ..storage.types import utc_now

logger = logging.getLogger("shop_privacy.outbox")


@dataclass(frozen=True)
class Outgoing:
    id: uuid.UUID
    recipient: str
    kind: str  # disclose, unsubscribe, erase
    customer_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int


class RecipientAdapter(Protocol):
    """Talks to one recipient (Stripe, Mailchimp, …). Raises to have the message retried later."""

    async def deliver(self, message: Outgoing) -> None: ...


@dataclass
class RecordingAdapter:
    """Keeps what it is given: for tests and for trying the package out."""

    delivered: list[Outgoing] = field(default_factory=list)

    async def deliver(self, message: Outgoing) -> None:
        self.delivered.append(message)


class FolderAdapter:
    """Development: each message is a JSON file in a folder, as the mail outbox is for mail."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def deliver(self, message: Outgoing) -> None:
        body = json.dumps({"id": str(message.id), "recipient": message.recipient, "kind": message.kind,
                           "customer": str(message.customer_id), "payload": message.payload}, ensure_ascii=False)
        await anyio.to_thread.run_sync(self._write, f"{message.recipient}-{message.id}.json", body)

    def _write(self, name: str, body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_text(body, encoding="utf-8")


@dataclass
class OutboxRun:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    waiting_for_adapter: int = 0


class OutboxWorker:
    def __init__(self, db: Database, adapters: Mapping[str, RecipientAdapter], *,
                 lease: timedelta = timedelta(minutes=2), max_attempts: int = 10,
                 backoff: timedelta = timedelta(seconds=30), max_backoff: timedelta = timedelta(hours=6)) -> None:
        self._db = db
        self.adapters = dict(adapters)
        self._lease = lease
        self._backoff = Backoff(backoff, max_backoff, max_attempts)

    def retry_after(self, attempt: int) -> timedelta:
        return self._backoff.retry_after(attempt)

    async def claim(self, batch: int, now: datetime | None = None) -> list[Outgoing]:
        now = now or utc_now()
        async with self._db.transaction() as session:
            query = (select(OutboxMessage)
                     .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now,
                            col(OutboxMessage.recipient).in_(list(self.adapters)))
                     .order_by(col(OutboxMessage.next_attempt_at)).limit(batch))
            if not self._db.url.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            claimed = []
            for message in (await session.exec(query)).all():
                message.attempts += 1
                message.next_attempt_at = now + self._lease
                session.add(message)
                claimed.append(Outgoing(message.id, message.recipient, message.kind, message.customer_id,
                                        json.loads(message.payload or "{}"), message.attempts))
        return claimed

    async def run_once(self, batch: int = 50, now: datetime | None = None) -> OutboxRun:
        result = OutboxRun()
        for message in await self.claim(batch, now):
            try:
                await self.adapters[message.recipient].deliver(message)
            except Exception as error:  # noqa: BLE001 - any failure of a recipient is retried
                await self._failed(message, error, result)
                continue
            async with self._db.transaction() as session:
                await session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(
                    status="delivered", delivered_at=utc_now(), payload=None, last_error=None))
            result.delivered += 1
            logger.info("outbox delivered id=%s recipient=%s kind=%s", message.id, message.recipient, message.kind)
        return result

    async def _failed(self, message: Outgoing, error: Exception, result: OutboxRun) -> None:
        gave_up = self._backoff.gives_up(message.attempt)
        values: dict[str, Any] = {"last_error": type(error).__name__}
        if gave_up:
            values["status"] = "failed"
            result.failed += 1
        else:
            values["next_attempt_at"] = utc_now() + self.retry_after(message.attempt)
            result.retried += 1
        async with self._db.transaction() as session:
            await session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(**values))
        logger.warning("outbox delivery failed id=%s recipient=%s attempt=%d error=%s gave_up=%s", message.id,
                       message.recipient, message.attempt, type(error).__name__, gave_up)

    async def run_until_idle(self, batch: int = 50) -> OutboxRun:
        total = OutboxRun()
        while True:
            run = await self.run_once(batch)
            total.delivered += run.delivered
            total.retried += run.retried
            total.failed += run.failed
            if not (run.delivered or run.retried or run.failed):
                return total
