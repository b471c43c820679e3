"""Login, logout and resolving a request's session (P21)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import InvalidCredentials
from ..storage.tables import Customer
from ..storage.types import utc_now
from ..validation import parse
from .commands import Login
from .deps import AccountDeps
from .password_check import PasswordCheck
from .queries import customer_by_email
from .sessions import Viewer

logger = logging.getLogger("shop_privacy.accounts")

INVALID_CREDENTIALS = "Wrong e-mail address or password, or the address is not confirmed yet."


@dataclass(frozen=True)
class LoggedIn:
    token: str  # for the cookie or the bearer header; never stored
    customer_id: uuid.UUID
    session_id: uuid.UUID
    cart_merged: bool


class Authentication:
    def __init__(self, deps: AccountDeps) -> None:
        self._deps = deps
        self._passwords = PasswordCheck(deps.db, deps.hasher, deps.throttle)

    async def login(self, data: dict[str, object], *, client_ip: str | None, cart_token: str | None,
                    visitor_token: str | None = None) -> LoggedIn:
        command = parse(Login, data)
        deps = self._deps
        keys = deps.throttle.keys(command.email, client_ip)
        async with deps.db.reader() as session:
            await deps.throttle.check(session, keys)
            customer = await customer_by_email(session, command.email)
        # The password work happens outside any transaction, and the same for an unknown address.
        try:
            new_hash = await self._passwords.confirm(keys, customer.password_hash if customer else None,
                                                     command.password,
                                                     failure=InvalidCredentials(INVALID_CREDENTIALS))
        except InvalidCredentials:
            logger.info("login failed customer_id=%s", customer.id if customer else "-")
            raise
        assert customer is not None
        async with deps.db.transaction() as session:
            await deps.throttle.record_success(session, keys)
            fresh = await session.get(Customer, customer.id)
            if fresh is None:  # erased between the check and now
                raise InvalidCredentials(INVALID_CREDENTIALS)
            if new_hash is not None and fresh.password_hash == customer.password_hash:
                fresh.password_hash = new_hash
            logged_in = await self.start_session(session, fresh, client_ip=client_ip, cart_token=cart_token,
                                                 visitor_token=visitor_token)
        logger.info("login customer_id=%s rehashed=%s", customer.id, new_hash is not None)
        return logged_in

    async def start_session(self, session: AsyncSession, customer: Customer, *, client_ip: str | None,
                            cart_token: str | None, visitor_token: str | None = None) -> LoggedIn:
        """Inside a transaction: a new session, the anonymous cart merged and the visitor's cookie
        consents taken over, the login noted."""
        token, session_id = await self._deps.sessions.create(session, customer.id, client_ip)
        merged = await self._deps.carts.adopt_at_login(session, cart_token, customer.id)
        await self._deps.consent_ledger.adopt_visitor(session, visitor_token, customer.id)
        customer.last_login_at = utc_now()
        customer.inactivity_warned_at = None  # in use again: a later inactivity starts over
        session.add(customer)
        return LoggedIn(token, customer.id, session_id, merged)

    async def viewer(self, session: AsyncSession, token: str | None) -> Viewer | None:
        """The customer behind a session token, or None for a missing, expired or revoked one.
        Reads through the caller's session (the request's); a due last-seen update is its own write."""
        if not token:
            return None
        deps = self._deps
        row = await deps.sessions.find_live(session, token)
        if row is None:
            return None
        if deps.sessions.needs_touch(row):
            async with deps.db.transaction() as session:
                await deps.sessions.touch(session, row.id)
        return Viewer(row.customer_id, row.id)

    async def logout(self, viewer: Viewer) -> None:
        async with self._deps.db.transaction() as session:
            await self._deps.sessions.revoke(session, viewer.session_id)
        logger.info("logout customer_id=%s session_id=%s", viewer.customer_id, viewer.session_id)

    async def logout_everywhere(self, viewer: Viewer) -> None:
        async with self._deps.db.transaction() as session:
            await self._deps.sessions.revoke_all(session, viewer.customer_id)
        logger.info("logout everywhere customer_id=%s", viewer.customer_id)
