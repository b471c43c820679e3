"""Registration with a confirmed e-mail address. The answer never tells whether an account exists:
a new address gets a confirmation link, a known one a note that it already has an account."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import BadUserInput, InvalidCredentials
from ..mail.templates import compose
from ..storage.tables import Customer, PendingRegistration
from ..storage.types import utc_now
from ..tokens import InvalidToken, new_token, token_hash
from ..validation import parse
from .authentication import Authentication, LoggedIn
from .commands import Register
from .deps import AccountDeps
from .password_check import PasswordCheck
from .passwords import password_problems
from .queries import customer_by_email

logger = logging.getLogger("shop_privacy.accounts")


def check_new_password(password: str, email: str | None, field: str = "password") -> None:
    problems = password_problems(password, email)
    if problems:
        raise BadUserInput(
            "The password " + "; ".join(problems) + ".", reason="weak_password",
            fields=[{"field": field, "message": problem} for problem in problems],
        )


class Registration:
    def __init__(self, deps: AccountDeps, authentication: Authentication) -> None:
        self._deps = deps
        self._authentication = authentication

    async def register(self, data: dict[str, object]) -> None:
        """A confirmation link to a new address, a note to a known one; the same answer, after the same
        work, either way. The newest registration of an address is the only one whose link works, and
        confirming asks for its password: someone who registers another's address first gains nothing.
        Mails to one address are limited, the same for known and unknown ones, and past the limit the
        answer says so (RATE_LIMITED) instead of pretending a mail went out."""
        command = parse(Register, data)
        check_new_password(command.password, command.email)
        deps = self._deps
        # Hash in both cases, so the answer takes as long whether or not the address is known.
        password_hash = await deps.hasher.hash(command.password)
        async with deps.db.transaction() as session:
            await deps.throttle.take(session, "registration-mail", command.email,
                                     limit=deps.settings.registration_mails_per_hour, window=timedelta(hours=1),
                                     message="Several mails went to this address in the last hour. Try again later.")
            existing = await customer_by_email(session, command.email)
            if existing is not None:
                deps.mails.enqueue(session, compose(
                    "account_exists", to=command.email, language=command.preferred_language,
                    link=f"{deps.settings.storefront_url.rstrip('/')}/forgot-password"), customer_id=existing.id)
            else:
                # Every older link for the address dies with this registration.
                await session.exec(delete(PendingRegistration).where(col(PendingRegistration.email) == command.email))
                token = new_token()
                session.add(PendingRegistration(
                    email=command.email, password_hash=password_hash, first_name=command.first_name,
                    last_name=command.last_name, preferred_language=command.preferred_language,
                    token_hash=token_hash(token),
                    expires_at=utc_now() + timedelta(seconds=deps.settings.registration_max_age_seconds),
                ))
                # No account yet: the mail belongs to nobody's account until the address is confirmed.
                deps.mails.enqueue(session, compose("verify_email", to=command.email,
                                                    language=command.preferred_language,
                                                    link=deps.link("verify-email", token)), customer_id=None)

    async def verify_email(self, token: str, password: str, *, client_ip: str | None, cart_token: str | None,
                           visitor_token: str | None = None, replaces: str | None = None) -> LoggedIn:
        """Confirm the address with the password chosen at registration (through the login's throttled
        check): the account is created with it and logged in."""
        deps = self._deps
        if not token or len(token) > 128:
            raise InvalidToken()
        async with deps.db.read() as session:
            pending = await _pending(session, token)
        await PasswordCheck(deps.db, deps.hasher, deps.throttle).confirm(
            deps.throttle.keys(pending.email, client_ip), pending.password_hash, password, rehash=False,
            failure=InvalidCredentials("The password is not the one chosen when registering with this link."))
        async with deps.db.transaction() as session:
            pending = await _pending(session, token)  # again: a concurrent confirmation may have used it
            if await customer_by_email(session, pending.email) is not None:
                raise InvalidToken()  # confirmed already, through another link
            customer = Customer(
                email=pending.email, password_hash=pending.password_hash, first_name=pending.first_name,
                last_name=pending.last_name, preferred_language=pending.preferred_language,
            )
            session.add(customer)
            await session.exec(delete(PendingRegistration).where(col(PendingRegistration.email) == pending.email))
            await session.flush()
            logged_in = await self._authentication.start_session(
                session, customer, client_ip=client_ip, cart_token=cart_token, visitor_token=visitor_token,
                replaces=replaces,
            )
        logger.info("account created customer_id=%s", customer.id)
        return logged_in


async def _pending(session: AsyncSession, token: str) -> PendingRegistration:
    pending = (await session.exec(
        select(PendingRegistration).where(PendingRegistration.token_hash == token_hash(token))
    )).first()
    if pending is None:
        raise InvalidToken()
    if pending.expires_at <= utc_now():
        raise InvalidToken(expired=True)
    return pending
