"""Changing and resetting passwords. Either revokes every other session (P21)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import InvalidCredentials, NotFound
from ..mail.templates import compose
from ..storage.locks import lock_customer
from ..storage.tables import Customer, PasswordResetToken
from ..storage.tables.customers import new_security_stamp
from ..storage.types import utc_now
from ..tokens import InvalidToken, new_token, token_hash
from ..validation import Command, Email, parse
from .commands import ChangePassword, ResetPassword
from .deps import AccountDeps
from .password_check import PasswordCheck
from .queries import customer_by_email
from .registration import check_new_password
from .sessions import Viewer

logger = logging.getLogger("shop_privacy.accounts")

_RESET_PURPOSE = "password-reset"


class _ResetRequest(Command):
    email: Email


class Credentials:
    def __init__(self, deps: AccountDeps) -> None:
        self._deps = deps

    async def change_password(self, viewer: Viewer, data: dict[str, object], *, client_ip: str | None) -> None:
        command = parse(ChangePassword, data)
        deps = self._deps
        async with deps.db.read() as session:
            customer = await session.get(Customer, viewer.customer_id)
        if customer is None:
            raise NotFound("No such customer.")
        keys = deps.throttle.keys(customer.email, client_ip)
        await PasswordCheck(deps.db, deps.hasher, deps.throttle).confirm(
            keys, customer.password_hash, command.current_password,
            failure=InvalidCredentials("The current password is wrong."), rehash=False)  # a new one is coming
        check_new_password(command.new_password, customer.email, field="newPassword")
        new_hash = await deps.hasher.hash(command.new_password)
        async with deps.db.transaction() as session:
            await self._set_password(session, viewer.customer_id, new_hash)
            await deps.sessions.revoke_all(session, viewer.customer_id, keep=viewer.session_id)
            deps.mails.enqueue(session, compose("password_changed", to=customer.email,
                                                language=customer.preferred_language), customer_id=customer.id)
        logger.info("password changed customer_id=%s", viewer.customer_id)

    async def request_reset(self, data: dict[str, object]) -> None:
        """Mail a reset link if the address has an account; the answer is the same either way."""
        command = parse(_ResetRequest, data)
        deps = self._deps
        async with deps.db.transaction() as session:
            customer = await customer_by_email(session, command.email)
            allowed = await deps.throttle.allow(session, "reset-mail", command.email,
                                                limit=deps.settings.password_reset_mails_per_hour,
                                                window=timedelta(hours=1))
            if customer is not None and allowed:
                raw = new_token()
                now = utc_now()
                session.add(PasswordResetToken(
                    customer_id=customer.id, token_hash=token_hash(raw), created_at=now,
                    expires_at=now + timedelta(seconds=deps.settings.password_reset_max_age_seconds),
                ))
                token = deps.signer.sign(_RESET_PURPOSE, raw)
                deps.mails.enqueue(session, compose("password_reset", to=customer.email,
                                                    language=customer.preferred_language,
                                                    link=deps.link("reset-password", token)), customer_id=customer.id)
        if customer is not None and allowed:
            logger.info("password reset requested customer_id=%s", customer.id)

    async def reset_password(self, data: dict[str, object]) -> None:
        command = parse(ResetPassword, data)
        deps = self._deps
        raw = deps.signer.unsign(_RESET_PURPOSE, command.token,
                                 max_age_seconds=deps.settings.password_reset_max_age_seconds)
        if not isinstance(raw, str):
            raise InvalidToken()
        async with deps.db.read() as session:
            row = (await session.exec(
                select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(raw))
            )).first()
            customer = await session.get(Customer, row.customer_id) if row else None
        if row is None or customer is None or row.used_at is not None:
            raise InvalidToken()
        if row.expires_at <= utc_now():
            raise InvalidToken(expired=True)
        check_new_password(command.new_password, customer.email, field="newPassword")
        new_hash = await deps.hasher.hash(command.new_password)
        async with deps.db.transaction() as session:
            # The customer first, the order every writer of their data takes (an erasure too).
            if await lock_customer(session, customer.id) is None:
                raise InvalidToken()
            # Single use, even against a concurrent second use of the same link.
            used = await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.id) == row.id, col(PasswordResetToken.used_at).is_(None))
                .values(used_at=utc_now())
            )
            if used.rowcount != 1:
                raise InvalidToken()
            # Every other outstanding link for this account dies with this one.
            await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.customer_id) == customer.id, col(PasswordResetToken.used_at).is_(None))
                .values(used_at=utc_now())
            )
            await self._set_password(session, customer.id, new_hash)
            await deps.sessions.revoke_all(session, customer.id)
            deps.mails.enqueue(session, compose("password_changed", to=customer.email,
                                                language=customer.preferred_language), customer_id=customer.id)
        logger.info("password reset customer_id=%s", customer.id)

    @staticmethod
    async def _set_password(session: AsyncSession, customer_id: uuid.UUID, new_hash: str) -> None:
        await session.exec(
            update(Customer).where(col(Customer.id) == customer_id)
            # A new stamp: outstanding e-mail-change links die with the old password.
            .values(password_hash=new_hash, password_changed_at=utc_now(), updated_at=utc_now(),
                    security_stamp=new_security_stamp())
        )
