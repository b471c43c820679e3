"""Server-side login sessions: the client holds a random token, the database only its hash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.tables import AuthSession
from ..storage.types import utc_now
from ..tokens import new_token, token_hash

# Writing last_seen_at on every request would turn every read into a write.
_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Viewer:
    """The logged-in customer behind a request."""

    customer_id: uuid.UUID
    session_id: uuid.UUID


class SessionStore:
    def __init__(self, idle_timeout: timedelta, absolute_timeout: timedelta) -> None:
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout

    async def create(self, session: AsyncSession, customer_id: uuid.UUID, ip_address: str | None) -> str:
        """Start a session; returns the token for the client (never stored)."""
        token = new_token()
        now = utc_now()
        session.add(AuthSession(
            customer_id=customer_id, token_hash=token_hash(token), created_at=now, last_seen_at=now,
            expires_at=now + self.absolute_timeout, ip_address=ip_address,
        ))
        return token

    async def find_live(self, session: AsyncSession, token: str) -> AuthSession | None:
        """The session for a token if it is neither revoked, idle too long, nor past its end."""
        if not token or len(token) > 128:
            return None
        row = (await session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))).first()
        now = utc_now()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.last_seen_at + self.idle_timeout <= now:
            return None
        return row

    def needs_touch(self, row: AuthSession) -> bool:
        return row.last_seen_at + _TOUCH_INTERVAL <= utc_now()

    async def touch(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        await session.exec(update(AuthSession).where(col(AuthSession.id) == session_id).values(last_seen_at=utc_now()))

    async def revoke(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        await session.exec(
            update(AuthSession)
            .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=utc_now())
        )

    async def revoke_all(self, session: AsyncSession, customer_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
        query = update(AuthSession).where(
            col(AuthSession.customer_id) == customer_id, col(AuthSession.revoked_at).is_(None)
        )
        if keep is not None:
            query = query.where(col(AuthSession.id) != keep)
        await session.exec(query.values(revoked_at=utc_now()))
