"""Login, logout and resolving a request's session (P21)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import InvalidCredentials
from ..storage.locks import lock_customer
from ..storage.tables import Customer
from ..storage.tables.customers import new_security_stamp
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
                    visitor_token: str | None = None, replaces: str | None = None) -> LoggedIn:
        command = parse(Login, data)
        deps = self._deps
        keys = deps.throttle.keys(command.email, client_ip)
        async with deps.db.read() as session:
            customer = await customer_by_email(session, command.email)
        # The password work happens outside any transaction, and the same for an unknown address.
        try:
            new_hash = await self._passwords.confirm(keys, customer.password_hash if customer else None,
                                                     command.password,
                                                     failure=InvalidCredentials(INVALID_CREDENTIALS),
                                                     release=False)
        except InvalidCredentials:
            logger.info("login failed customer_id=%s", customer.id if customer else "-")
            raise
        assert customer is not None
        async with deps.db.transaction() as session:
            # Locked like every writer of the customer's data (the customer first, then the rest, the
            # throttle's rows too): a login and an erasure take turns.
            fresh = await lock_customer(session, customer.id)
            if fresh is None:  # erased between the check and now
                raise InvalidCredentials(INVALID_CREDENTIALS)
            await deps.throttle.release(session, keys)
            if new_hash is not None and fresh.password_hash == customer.password_hash:
                fresh.password_hash = new_hash
            logged_in = await self.start_session(session, fresh, client_ip=client_ip, cart_token=cart_token,
                                                 visitor_token=visitor_token, replaces=replaces)
        logger.info("login customer_id=%s rehashed=%s", customer.id, new_hash is not None)
        return logged_in

    async def start_session(self, session: AsyncSession, customer: Customer, *, client_ip: str | None,
                            cart_token: str | None, visitor_token: str | None = None,
                            replaces: str | None = None) -> LoggedIn:
        """Inside a transaction: a new session, the anonymous cart merged and the visitor's cookie
        consents taken over, the login noted. The session this browser held before (`replaces`, its
        token) ends: a new login never leaves the old one usable behind it."""
        if replaces:
            await self._deps.sessions.revoke_token(session, replaces)
        token, session_id = await self._deps.sessions.create(session, customer.id, client_ip)
        merged = await self._deps.carts.adopt_at_login(session, cart_token, customer.id)
        await self._deps.consent_ledger.adopt_visitor(session, visitor_token, customer.id)
        customer.last_login_at = utc_now()
        customer.inactivity_warned_at = None  # in use again: a later inactivity starts over
        session.add(customer)
        return LoggedIn(token, customer.id, session_id, merged)

    async def viewer(self, session: AsyncSession, token: str | None) -> Viewer | None:
        """The customer behind a session token, or None for a missing, expired or revoked one.
        Only reads, through the caller's session: a due last-seen update is `touch()`, after the read
        block, so no request holds its read connection while it waits for a write one."""
        if not token:
            return None
        sessions = self._deps.sessions
        row = await sessions.find_live(session, token)
        if row is None:
            return None
        return Viewer(row.customer_id, row.id, touch_due=sessions.needs_touch(row))

    async def touch(self, viewer: Viewer) -> None:
        if viewer.touch_due:
            async with self._deps.db.transaction() as session:
                await self._deps.sessions.touch(session, viewer.session_id)

    async def logout(self, viewer: Viewer) -> None:
        async with self._deps.db.transaction() as session:
            await self._deps.sessions.revoke(session, viewer.session_id)
        logger.info("logout customer_id=%s session_id=%s", viewer.customer_id, viewer.session_id)

    async def logout_everywhere(self, viewer: Viewer) -> None:
        async with self._deps.db.transaction() as session:
            customer = await lock_customer(session, viewer.customer_id)
            if customer is not None:  # and every outstanding e-mail-change link dies with the sessions
                customer.security_stamp = new_security_stamp()
                session.add(customer)
            await self._deps.sessions.revoke_all(session, viewer.customer_id)
        logger.info("logout everywhere customer_id=%s", viewer.customer_id)
