"""Failed-login throttling, per account and per client address, stored in the database so it holds
across app instances. Keys are keyed hashes: the table never holds an e-mail or IP address."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import RateLimited, ServiceUnavailable
from ..settings import Settings
from ..storage.locks import insert_unless_present
from ..storage.tables import LoginThrottle
from ..storage.types import utc_now
from ..tokens import Signer
from ..validation import normalise_email

_MAX_LOCKOUT = timedelta(hours=1)
_ROW_ATTEMPTS = 8


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str | None


class Throttle:
    def __init__(self, settings: Settings, signer: Signer) -> None:
        self._signer = signer
        self._window = timedelta(seconds=settings.login_window_seconds)
        self._lockout = timedelta(seconds=settings.login_lockout_seconds)
        self._limits = {"acct": settings.login_failures_per_account, "addr": settings.login_failures_per_address}

    def keys(self, email: str, client_ip: str | None, *, scope: str = "customer") -> ThrottleKeys:
        """Customers and staff count apart: a customer's failures never lock a colleague out."""
        account = "acct:" + self._signer.keyed_hash(f"throttle-{scope}-account", normalise_email(email))
        address = "addr:" + self._signer.keyed_hash(f"throttle-{scope}-address", client_ip) if client_ip else None
        return ThrottleKeys(account, address)

    async def reserve(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        """Count an attempt before its password is checked, refusing it while either key is locked out.
        The counter rows are locked for the transaction, so parallel attempts (in this process or
        another) are counted one after the other and at most the limit get through; a correct password
        gives its attempt back (`release`)."""
        now = utc_now()
        rows = [await self._row(session, key) for key in sorted(k for k in (keys.account, keys.address) if k)]
        waits = [(row.locked_until - now).total_seconds() for row in rows
                 if row.locked_until and row.locked_until > now]
        if waits:
            raise RateLimited("Too many failed logins. Try again later.", retry_after_seconds=math.ceil(max(waits)))
        for row in rows:
            self._count(row, now)

    async def release(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        """The attempt succeeded: the account's record is cleared; the address gives back the one
        attempt it was counted (logging in to one's own account must not clear an address's record)."""
        await session.exec(delete(LoginThrottle).where(col(LoginThrottle.key) == keys.account))
        if keys.address:
            row = await self._row(session, keys.address)
            row.failures = max(0, row.failures - 1)
            if row.failures < self._limits["addr"]:
                row.locked_until = None
            session.add(row)

    async def take(self, session: AsyncSession, purpose: str, value: str, *, limit: int, window: timedelta,
                   message: str) -> None:
        """Count one more event, or refuse it with RATE_LIMITED (and when to try again) once `limit`
        events happened in `window`. A refused event is not counted (the transaction rolls back)."""
        key = "evnt:" + self._signer.keyed_hash(f"throttle-{purpose}", value)
        now = utc_now()
        row = await self._row(session, key)
        if row.window_started_at + window <= now:
            row.failures, row.window_started_at = 0, now
        if row.failures >= limit:
            wait = (row.window_started_at + window - now).total_seconds()
            raise RateLimited(message, retry_after_seconds=max(1, math.ceil(wait)))
        row.failures += 1
        session.add(row)

    async def allow(self, session: AsyncSession, purpose: str, value: str, *, limit: int, window: timedelta) -> bool:
        """Count one more event (e.g. a reset mail to an address); False once `limit` is passed in `window`."""
        key = "evnt:" + self._signer.keyed_hash(f"throttle-{purpose}", value)
        now = utc_now()
        row = await self._row(session, key)
        if row.window_started_at + window <= now:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        session.add(row)
        return row.failures <= limit

    async def _row(self, session: AsyncSession, key: str) -> LoginThrottle:
        """The counter row for `key`, locked for this transaction, created at zero if new.

        Another transaction may create the row first, and a successful login may delete it again
        (`release`) before this one reads it: so create-if-missing and read-locked repeat until a row
        is held. Each round trip needs another transaction to win a race, so a few always suffice."""
        query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        for _ in range(_ROW_ATTEMPTS):
            row = (await session.exec(query.execution_options(populate_existing=True))).first()
            if row is not None:
                return row
            await insert_unless_present(session, LoginThrottle,
                                        {"key": key, "failures": 0, "window_started_at": utc_now()}, unique=["key"])
        raise ServiceUnavailable("The login service is busy. Try again in a moment.", reason="busy",
                                 retryAfterSeconds=1)

    def _count(self, row: LoginThrottle, now: datetime) -> None:
        # A quiet window starts the count again; right after a lock-out, one more failure locks again, longer.
        recently_locked = row.locked_until is not None and row.locked_until + self._window > now
        if row.window_started_at + self._window <= now and not recently_locked:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        limit = self._limits[row.key[:4]]
        if row.failures >= limit:
            lockout = min(self._lockout * 2 ** min(row.failures - limit, 8), _MAX_LOCKOUT)
            row.locked_until = now + lockout
            row.window_started_at = now
