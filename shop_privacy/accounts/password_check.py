"""Checking a password at login and before sensitive changes: the same hashing work for an unknown
account, every failure counted by the throttle, and a fresh hash when the stored one is outdated."""

from __future__ import annotations

from ..errors import ShopError
from ..storage.database import Database
from .passwords import PasswordHasher
from .throttle import Throttle, ThrottleKeys


class PasswordCheck:
    def __init__(self, db: Database, hasher: PasswordHasher, throttle: Throttle) -> None:
        self._db = db
        self._hasher = hasher
        self._throttle = throttle

    async def confirm(self, keys: ThrottleKeys, stored_hash: str | None, password: str, *,
                      failure: ShopError, rehash: bool = True, release: bool = True) -> str | None:
        """Raise `failure` unless `password` matches; `stored_hash` None means no such account. The
        attempt is counted before any hashing (RATE_LIMITED while locked out) and given back when the
        password is right (or, with `release` False, by the caller's own transaction, one write fewer:
        `Throttle.release`). Returns the hash to store instead when the parameters have changed (and
        `rehash` asks for it), else None."""
        async with self._db.transaction() as session:
            await self._throttle.reserve(session, keys)
        if stored_hash is None:
            await self._hasher.verify_nothing(password)
            valid = False
        else:
            valid = await self._hasher.verify(stored_hash, password)
        if not valid or stored_hash is None:
            raise failure
        if release:
            async with self._db.transaction() as session:
                await self._throttle.release(session, keys)
        return await self._hasher.hash(password) if rehash and self._hasher.needs_rehash(stored_hash) else None
