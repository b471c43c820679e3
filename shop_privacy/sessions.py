"""Server-side login sessions, for customers and staff alike: the client holds a random token, the
database only its hash. Idle and absolute expiry; revocation per session or for an owner."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from .storage.database import core_rows
from .storage.types import utc_now
from .tokens import new_token, token_hash

Row = TypeVar("Row", bound=SQLModel)


class SessionStore(Generic[Row]):
    """Sessions kept in `model`, whose column `owner` names who they belong to."""

    def __init__(self, model: type[Row], owner: str, *, idle_timeout: timedelta, absolute_timeout: timedelta,
                 touch_interval: timedelta = timedelta(minutes=1)) -> None:
        self.model = model
        self.touch_interval = touch_interval
        self.owner = owner
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        # Built once (every request with a token runs it): the columns the check and the callers need.
        self._find = core_select(*(self._column(name) for name in ("id", owner, "revoked_at", "expires_at",
                                                                    "last_seen_at"))) \
            .where(self._column("token_hash") == bindparam("token_hash"))

    def _column(self, name: str) -> Any:
        return col(getattr(self.model, name))

    async def create(self, session: AsyncSession, owner_id: uuid.UUID,
                     ip_address: str | None) -> tuple[str, uuid.UUID]:
        """Start a session; returns the token for the client (never stored) and the session's id."""
        token = new_token()
        now = utc_now()
        row: Any = self.model(**{
            self.owner: owner_id, "token_hash": token_hash(token), "created_at": now, "last_seen_at": now,
            "expires_at": now + self.absolute_timeout, "ip_address": ip_address,
        })
        session.add(row)
        return token, row.id

    async def find_live(self, session: AsyncSession, token: str) -> Any:
        """The session for a token if it is neither revoked, idle too long, nor past its end: a row of its
        id, owner, revoked_at, expires_at and last_seen_at."""
        if not token or len(token) > 128:
            return None
        found = await core_rows(session, self._find, {"token_hash": token_hash(token)})
        row = found[0] if found else None
        now = utc_now()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.last_seen_at + self.idle_timeout <= now:
            return None
        return row

    def needs_touch(self, row: Any) -> bool:
        return bool(row.last_seen_at + self.touch_interval <= utc_now())

    async def touch(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        """Note the session as seen now. Concurrent requests of one session write it once: the
        condition makes the later ones update nothing."""
        now = utc_now()
        await session.exec(
            update(self.model)
            .where(self._column("id") == session_id, self._column("last_seen_at") <= now - self.touch_interval)
            .values(last_seen_at=now)
        )

    async def revoke(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        await session.exec(
            update(self.model)
            .where(self._column("id") == session_id, self._column("revoked_at").is_(None))
            .values(revoked_at=utc_now())
        )

    async def revoke_token(self, session: AsyncSession, token: str) -> None:
        """End the session behind a token, whoever it belongs to (the token is the proof)."""
        if token and len(token) <= 128:
            await session.exec(
                update(self.model)
                .where(self._column("token_hash") == token_hash(token), self._column("revoked_at").is_(None))
                .values(revoked_at=utc_now())
            )

    async def revoke_all(self, session: AsyncSession, owner_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
        query = update(self.model).where(self._column(self.owner) == owner_id, self._column("revoked_at").is_(None))
        if keep is not None:
            query = query.where(self._column("id") != keep)
        await session.exec(query.values(revoked_at=utc_now()))
