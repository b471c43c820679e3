"""The durable queue of account mails: a mail is lost neither to a mail server that is down nor to a
process that dies.

- `enqueue` writes the mail in the caller's transaction, beside the change it reports (a transactional
  outbox): a change that rolls back leaves no mail, a committed one always has its mail.
- Once that transaction commits, one delivery attempt starts at once in the background, so a mail
  usually leaves within the request (and in development its `.eml` file appears right away). If the
  mail server does not take it, the mail is due for the worker's next round at once.
- `shop-privacy outbox run` (`run_once`/`run_until_idle`) delivers whatever is still queued: after a
  failed attempt, after a crash between the commit and the attempt, after a restart. Failed attempts
  back off exponentially (`backoff.Backoff`); after the allowed number the mail is marked failed.

Every attempt first claims its mail in a short transaction: it picks due mails (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so workers never wait for each other) and an UPDATE … RETURNING pushes their
next attempt a lease into the future: of two workers, or a worker and the request's own attempt, only
one gets a mail. A worker that dies after claiming leaves
the mail due again once the lease has passed, so a mail is sent at least once; twice only if a worker
dies between the server accepting a mail and recording it as sent.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, func, update
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..backoff import Backoff
from ..storage.database import Database
from ..storage.tables import AccountMail
from ..storage.types import utc_now
from .mailer import Mail, Mailer

logger = logging.getLogger("shop_privacy.mail")

QUEUED, SENT, FAILED = "queued", "sent", "failed"
_AFTER_COMMIT = "shop_privacy_mails_to_kick"  # Session.info: mails this transaction queued


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    kind: str
    attempt: int
    mail: Mail | None  # None when its content is gone (cannot happen to a queued mail; guarded anyway)


@dataclass
class MailRun:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: MailRun) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed

    @property
    def idle(self) -> bool:
        return not (self.sent or self.retried or self.failed)


@dataclass(frozen=True)
class FailedMail:
    id: uuid.UUID
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass
class MailQueueStatus:
    """What `outbox status` shows: counts and ids, never an address or a text."""

    counts: dict[str, int] = field(default_factory=dict)
    oldest_queued_at: datetime | None = None
    failed: list[FailedMail] = field(default_factory=list)


class MailQueue:
    def __init__(self, db: Database, mailer: Mailer, backoff: Backoff, lease: timedelta) -> None:
        self._db = db
        self._mailer = mailer
        self.backoff = backoff
        self._lease = lease

    # Queueing: in the caller's transaction; one attempt once it commits.

    def enqueue(self, session: AsyncSession, mail: Mail, *, customer_id: uuid.UUID | None) -> uuid.UUID:
        """Queue `mail` in `session`'s transaction. It exists if and only if that transaction commits;
        when it does, a first delivery attempt starts in the background."""
        row = AccountMail(id=uuid.UUID(hex=mail.id), customer_id=customer_id, kind=mail.kind, recipient=mail.to,
                          recipient_name=mail.to_name, subject=mail.subject, body=mail.text,
                          headers=json.dumps(mail.headers, ensure_ascii=False) if mail.headers else None)
        session.add(row)
        sync_session = session.sync_session
        waiting: list[uuid.UUID] | None = sync_session.info.get(_AFTER_COMMIT)
        if waiting is None:
            waiting = sync_session.info[_AFTER_COMMIT] = []
            event.listen(sync_session, "after_commit", self._after_commit)
            event.listen(sync_session, "after_rollback", _forget)
        waiting.append(row.id)
        return row.id

    def _after_commit(self, sync_session: Session) -> None:
        ids = sync_session.info.pop(_AFTER_COMMIT, None)
        if ids:
            self.kick(ids)

    def kick(self, ids: Sequence[uuid.UUID]) -> None:
        """Try these mails now, in the background (they stay queued if the attempt fails)."""
        self._mailer.in_background(self._attempt(list(ids)))

    async def _attempt(self, ids: list[uuid.UUID]) -> None:
        try:
            result = MailRun()
            for mail_id in ids:  # one claim per mail: the lease covers one delivery, however many were queued
                now = utc_now()
                for claimed in await self._claim(now, 1, ids=[mail_id]):
                    await self._deliver(claimed, now, result, immediate=True)
        except Exception as error:  # noqa: BLE001 - the mail is queued; the worker tries again
            logger.warning("immediate mail attempt did not finish ids=%s error=%s",
                           ",".join(i.hex for i in ids), type(error).__name__)

    # The worker: `shop-privacy outbox run`.

    async def run_once(self, batch: int = 50, now: datetime | None = None) -> MailRun:
        """Deliver up to `batch` due mails, claiming one at a time (the lease covers one delivery)."""
        now = now or utc_now()
        result = MailRun()
        for _ in range(batch):
            claimed = await self._claim(now, 1)
            if not claimed:
                break
            await self._deliver(claimed[0], now, result)
        return result

    async def run_until_idle(self, batch: int = 50) -> MailRun:
        total = MailRun()
        while True:
            run = await self.run_once(batch)
            total.add(run)
            if run.idle:
                return total

    async def _claim(self, now: datetime, limit: int, *, ids: Sequence[uuid.UUID] | None = None) -> list[_Claimed]:
        due = and_(col(AccountMail.status) == QUEUED, col(AccountMail.next_attempt_at) <= now)
        chosen = select(AccountMail.id).where(due)
        if ids is not None:
            chosen = chosen.where(col(AccountMail.id).in_(ids))
        chosen = chosen.order_by(col(AccountMail.next_attempt_at)).limit(limit)
        if not self._db.url.is_sqlite:
            chosen = chosen.with_for_update(skip_locked=True)  # workers take different mails, never wait
        async with self._db.transaction() as session:
            # Two statements in one transaction, not `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
            # LOCKED)`: PostgreSQL may run such a subquery once per row and so take more than `limit`.
            # The rows stay locked (PostgreSQL) or the database's one writer is us (SQLite) until the commit.
            taken = list((await session.exec(chosen)).all())
            if not taken:
                return []
            claim = (update(AccountMail).where(col(AccountMail.id).in_(taken), due)
                     .values(attempts=col(AccountMail.attempts) + 1, next_attempt_at=now + self._lease)
                     .returning(col(AccountMail.id), col(AccountMail.kind), col(AccountMail.attempts),
                                col(AccountMail.recipient), col(AccountMail.recipient_name), col(AccountMail.subject),
                                col(AccountMail.body), col(AccountMail.headers)))
            rows = list((await session.exec(claim)).all())  # type: ignore[call-overload]
        return [_claimed(*row) for row in rows]

    async def _deliver(self, claimed: _Claimed, now: datetime, result: MailRun, *, immediate: bool = False) -> None:
        try:
            if claimed.mail is None:
                raise LookupError("the mail has no content left")
            await self._mailer.deliver(claimed.mail)
        except Exception as error:  # noqa: BLE001 - any failure of the mail server is retried
            await self._failed(claimed, error, now, result, immediate=immediate)
            return
        async with self._db.transaction() as session:
            await session.exec(update(AccountMail).where(col(AccountMail.id) == claimed.id)  # type: ignore[call-overload]
                               .values(status=SENT, sent_at=utc_now(), last_error=None))
        result.sent += 1

    async def _failed(self, claimed: _Claimed, error: Exception, now: datetime, result: MailRun, *,
                      immediate: bool) -> None:
        gave_up = claimed.mail is None or self.backoff.gives_up(claimed.attempt)
        values: dict[str, Any] = {"last_error": type(error).__name__}
        if gave_up:
            values["status"], values["failed_at"] = FAILED, utc_now()
            result.failed += 1
        else:
            # The request's own attempt was a bonus: the worker's next round tries again. Its own
            # failures wait longer each time.
            values["next_attempt_at"] = now if immediate else now + self.backoff.retry_after(claimed.attempt)
            result.retried += 1
        async with self._db.transaction() as session:
            await session.exec(update(AccountMail).where(col(AccountMail.id) == claimed.id)  # type: ignore[call-overload]
                               .values(**values))
        log = logger.error if gave_up else logger.warning
        log("mail delivery failed id=%s kind=%s attempt=%d error=%s gave_up=%s", claimed.id, claimed.kind,
            claimed.attempt, type(error).__name__, gave_up)

    # What `outbox status` shows.

    async def status(self, failed_limit: int = 50) -> MailQueueStatus:
        status = MailQueueStatus()
        async with self._db.read() as session:
            counts = (await session.exec(select(AccountMail.status, func.count())  # type: ignore[call-overload]
                                         .group_by(col(AccountMail.status)))).all()
            status.counts = {name: int(count) for name, count in counts}
            status.oldest_queued_at = await session.scalar(
                select(func.min(col(AccountMail.created_at))).where(col(AccountMail.status) == QUEUED))
            failed = (await session.exec(
                select(AccountMail).where(col(AccountMail.status) == FAILED)
                .order_by(col(AccountMail.created_at).desc()).limit(failed_limit))).all()
        status.failed = [FailedMail(m.id, m.kind, m.attempts, m.last_error, m.created_at) for m in failed]
        return status


def _claimed(mail_id: uuid.UUID, kind: str, attempt: int, recipient: str | None, recipient_name: str | None,
             subject: str | None, body: str | None, headers: str | None) -> _Claimed:
    if recipient is None or subject is None or body is None:
        return _Claimed(mail_id, kind, attempt, None)
    return _Claimed(mail_id, kind, attempt, Mail(
        to=recipient, subject=subject, text=body, kind=kind, headers=json.loads(headers) if headers else {},
        id=mail_id.hex, to_name=recipient_name))


def _forget(sync_session: Session) -> None:
    """A rolled-back transaction's mails never existed: nothing to try."""
    sync_session.info.pop(_AFTER_COMMIT, None)
