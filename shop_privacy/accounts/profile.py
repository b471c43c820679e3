"""The customer's profile: read it, correct it (P23), change the e-mail address after confirmation."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import BadUserInput, InvalidCredentials, NotFound
from ..mail.templates import compose
from ..storage.locks import lock_customer
from ..storage.tables import Customer, Rectification
from ..storage.tables.customers import new_security_stamp
from ..storage.types import utc_now
from ..tokens import InvalidToken
from ..validation import parse
from .commands import ProfileUpdate
from .deps import AccountDeps
from .password_check import PasswordCheck
from .queries import customer_by_email
from .sessions import Viewer

logger = logging.getLogger("shop_privacy.accounts")

_EMAIL_CHANGE_PURPOSE = "email-change"
_EMAIL_CHANGE_STOP_PURPOSE = "email-change-stop"
# Profile input name -> customer column, for the fields that map one to one.
_SIMPLE_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "company_name": "company_name",
    "organisation_number": "company_org_number",
    "preferred_language": "preferred_language",
}
_ADDRESS_FIELDS = {
    "street": "address_street",
    "postal_code": "address_postal_code",
    "city": "address_city",
    "country": "address_country",
}


# Called inside the update's transaction with the changed columns.
ChangeHook = Callable[[AsyncSession, list[str]], None]


@dataclass(frozen=True)
class ProfileUpdated:
    customer: Customer
    changed_fields: list[str]  # column names; what, never the old value
    email_change_pending: bool


@dataclass(frozen=True)
class Correction:
    rectification: Rectification  # which field, when, by whom; never the old value
    recipients_told: list[str]


def record_rectifications(session: AsyncSession, customer_id: uuid.UUID, columns: list[str], *, changed_by: str,
                          request_id: str) -> None:
    """What changed, when, by whom, through which request; never the old value (P23)."""
    now = utc_now()
    session.add_all(Rectification(customer_id=customer_id, field=f"customers.{column}", changed_at=now,
                                  changed_by=changed_by, request_id=request_id) for column in columns)


class Profiles:
    def __init__(self, deps: AccountDeps) -> None:
        self._deps = deps

    async def get(self, session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
        return await session.get(Customer, customer_id)

    async def corrections(self, session: AsyncSession, customer_id: uuid.UUID) -> list[Correction]:
        """The customer's corrections, newest first, each with the recipients that were told (P23)."""
        told = await self._deps.disclosures.told_of_corrections(session, customer_id)
        query = (select(Rectification).where(Rectification.customer_id == customer_id)
                 .order_by(col(Rectification.changed_at).desc(), col(Rectification.id)))
        return [Correction(row, told.get((row.request_id, row.field), []))
                for row in (await session.exec(query)).all()]

    async def update(self, viewer: Viewer, data: dict[str, Any], *, request_id: str,
                     client_ip: str | None = None) -> ProfileUpdated:
        """The customer corrects their own profile (P23)."""
        return await self._update(viewer.customer_id, parse(ProfileUpdate, data), changed_by="customer",
                                  request_id=request_id, client_ip=client_ip)

    async def correct(self, staff_id: uuid.UUID, customer_id: uuid.UUID, data: dict[str, Any], *,
                      request_id: str, also: ChangeHook | None = None) -> ProfileUpdated:
        """Staff correct a customer's profile on their behalf; the e-mail address only the customer
        changes. `also` runs in the same transaction when something changed."""
        command = parse(ProfileUpdate, data)
        if command.email is not None or command.current_password is not None:
            raise BadUserInput("Only the customer can change their e-mail address.", reason="customer_only")
        return await self._update(customer_id, command, changed_by=f"staff:{staff_id}", request_id=request_id,
                                  also=also)

    async def _update(self, customer_id: uuid.UUID, command: ProfileUpdate, *, changed_by: str,
                      request_id: str, also: ChangeHook | None = None, client_ip: str | None = None) -> ProfileUpdated:
        deps = self._deps
        given = command.model_fields_set
        email_change = command.email
        if email_change is not None:
            assert command.current_password is not None  # the command's own rule
            async with deps.db.read() as session:
                current = await session.get(Customer, customer_id)
            if current is None:
                raise NotFound("No such customer.")
            # The login's throttled check, counted against the same account and address.
            await PasswordCheck(deps.db, deps.hasher, deps.throttle).confirm(
                deps.throttle.keys(current.email, client_ip), current.password_hash, command.current_password,
                failure=InvalidCredentials("The current password is wrong."), rehash=False)
            if email_change == current.email:
                email_change = None
        async with deps.db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None:
                raise NotFound("No such customer.")
            changed: list[str] = []
            updates = {column: getattr(command, name) for name, column in _SIMPLE_FIELDS.items() if name in given}
            if command.address is not None:
                updates.update({
                    column: getattr(command.address, name)
                    for name, column in _ADDRESS_FIELDS.items() if name in command.address.model_fields_set
                })
                if updates.get("address_country", "") is None:
                    raise BadUserInput("The country cannot be cleared.", field="address.country")
            for column, value in updates.items():
                if getattr(customer, column) != value:
                    setattr(customer, column, value)
                    changed.append(column)
            if changed:
                customer.updated_at = utc_now()
                session.add(customer)
                record_rectifications(session, customer.id, changed, changed_by=changed_by, request_id=request_id)
                await deps.disclosures.pass_on_correction(session, customer, customer.id, changed,
                                                          reference=request_id)
                if also is not None:
                    also(session, changed)
            if email_change is not None:
                await deps.throttle.take(session, "email-change", str(customer.id),
                                         limit=deps.settings.email_changes_per_hour, window=timedelta(hours=1),
                                         message="Several e-mail changes were asked for in the last hour. "
                                                 "Try again later.")
                # A new stamp: every older change link dies, only this request's works.
                customer.security_stamp = new_security_stamp()
                session.add(customer)
                self._mail_change_links(session, customer, email_change)
        logger.info("profile updated customer_id=%s fields=%s email_change=%s",
                    customer.id, ",".join(changed) or "-", email_change is not None)
        return ProfileUpdated(customer, changed, email_change is not None)

    def _mail_change_links(self, session: AsyncSession, customer: Customer, new_email: str) -> None:
        """The confirmation link to the new address; to the current one, word of the request with a
        link that stops it. Both are bound to the stamp just set."""
        deps = self._deps
        bound = {"customer": str(customer.id), "stamp": customer.security_stamp}
        confirm = deps.signer.sign(_EMAIL_CHANGE_PURPOSE, {**bound, "to": new_email})
        stop = deps.signer.sign(_EMAIL_CHANGE_STOP_PURPOSE, bound)
        language = customer.preferred_language
        deps.mails.enqueue(session, compose("confirm_email_change", to=new_email, language=language,
                                            link=deps.link("confirm-email", confirm)), customer_id=customer.id)
        deps.mails.enqueue(session, compose("email_change_requested", to=customer.email, language=language,
                                            link=deps.link("stop-email-change", stop)), customer_id=customer.id)

    def _bound(self, purpose: str, token: str) -> tuple[uuid.UUID, str, dict[str, Any]]:
        deps = self._deps
        payload = deps.signer.unsign(purpose, token, max_age_seconds=deps.settings.email_change_max_age_seconds)
        if not isinstance(payload, dict) or not {"customer", "stamp"} <= payload.keys():
            raise InvalidToken()
        try:
            return uuid.UUID(str(payload["customer"])), str(payload["stamp"]), payload
        except ValueError:
            raise InvalidToken() from None

    async def confirm_email_change(self, token: str, *, request_id: str) -> Customer:
        """Valid once, and only while the account's stamp is the one the link was made with: a password
        change or reset, logging out everywhere, a newer change request or a stop all end it."""
        deps = self._deps
        customer_id, stamp, payload = self._bound(_EMAIL_CHANGE_PURPOSE, token)
        if "to" not in payload:
            raise InvalidToken()
        async with deps.db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None or not hmac.compare_digest(customer.security_stamp, stamp):
                raise InvalidToken()
            new_email = str(payload["to"])
            if await customer_by_email(session, new_email) is not None:
                raise BadUserInput("That e-mail address cannot be used.", reason="email_unavailable")
            old_email = customer.email
            customer.email = new_email
            customer.security_stamp = new_security_stamp()  # used once
            customer.updated_at = utc_now()
            session.add(customer)
            record_rectifications(session, customer.id, ["email"], changed_by="customer", request_id=request_id)
            await deps.disclosures.pass_on_correction(session, customer, customer.id, ["email"], reference=request_id)
            # To the address the account had: its owner learns of the change even if it was not them.
            deps.mails.enqueue(session, compose("email_changed", to=old_email, language=customer.preferred_language),
                               customer_id=customer.id)
        logger.info("e-mail changed customer_id=%s", customer.id)
        return customer

    async def stop_email_change(self, token: str) -> None:
        """The current address's owner stops a change they did not ask for: the change link dies."""
        customer_id, stamp, _ = self._bound(_EMAIL_CHANGE_STOP_PURPOSE, token)
        async with self._deps.db.transaction() as session:
            customer = await lock_customer(session, customer_id)
            if customer is None or not hmac.compare_digest(customer.security_stamp, stamp):
                return  # already confirmed, stopped or overtaken: nothing left to stop
            customer.security_stamp = new_security_stamp()
            session.add(customer)
        logger.info("e-mail change stopped customer_id=%s", customer_id)
