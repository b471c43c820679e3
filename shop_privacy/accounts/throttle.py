"""Failed-login throttling, per account and per client address, stored in the database so it holds
across app instances. Keys are keyed hashes: the table never holds an e-mail or IP address."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import RateLimited
from ..settings import Settings
from ..storage.tables import LoginThrottle
from ..storage.types import utc_now
from ..tokens import Signer

_MAX_LOCKOUT = timedelta(hours=1)


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
        account = "acct:" + self._signer.keyed_hash(f"throttle-{scope}-account", email.strip().lower())
        address = "addr:" + self._signer.keyed_hash(f"throttle-{scope}-address", client_ip) if client_ip else None
        return ThrottleKeys(account, address)

    async def check(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        """Refuse before any password work while either key is locked out."""
        wanted = [key for key in (keys.account, keys.address) if key]
        rows = (await session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(wanted)))).all()
        now = utc_now()
        waits = [(row.locked_until - now).total_seconds()
                 for row in rows if row.locked_until and row.locked_until > now]
        if waits:
            raise RateLimited("Too many failed logins. Try again later.", retry_after_seconds=math.ceil(max(waits)))

    async def record_failure(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        for key in (keys.account, keys.address):
            if key:
                await self._count(session, key)

    async def record_success(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        # Only the account's counter: logging in to one's own account must not clear an address's record.
        await session.exec(delete(LoginThrottle).where(col(LoginThrottle.key) == keys.account))

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
        """The counter row for `key`, locked for this transaction, created at zero if new."""
        query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        row = (await session.exec(query)).first()
        if row is not None:
            return row
        try:
            async with session.begin_nested():
                row = LoginThrottle(key=key, failures=0, window_started_at=utc_now())
                session.add(row)
            return row
        except IntegrityError:  # a concurrent transaction created it first
            return (await session.exec(query)).one()

    async def _count(self, session: AsyncSession, key: str) -> None:
        now = utc_now()
        row = await self._row(session, key)
        # A quiet window starts the count again; right after a lock-out, one more failure locks again, longer.
        recently_locked = row.locked_until is not None and row.locked_until + self._window > now
        if row.window_started_at + self._window <= now and not recently_locked:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        limit = self._limits[key[:4]]
        if row.failures >= limit:
            lockout = min(self._lockout * 2 ** min(row.failures - limit, 8), _MAX_LOCKOUT)
            row.locked_until = now + lockout
            row.window_started_at = now
        session.add(row)
