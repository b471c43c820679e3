"""Staff accounts and logins: argon2id as for customers, separate sessions, separate throttling."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..accounts.password_check import PasswordCheck
from ..accounts.passwords import PasswordHasher
from ..accounts.registration import check_new_password
from ..accounts.throttle import Throttle
from ..errors import BadUserInput, Conflict, InvalidCredentials
from ..privacy.purposes import StaffRole
from ..sessions import SessionStore
from ..storage.database import Database
from ..storage.tables import StaffSession, StaffUser
from ..storage.types import utc_now
from ..validation import Command, Email, PersonName, parse

logger = logging.getLogger("shop_privacy.staff")

INVALID_CREDENTIALS = "Wrong e-mail address or password."


@dataclass(frozen=True)
class StaffViewer:
    staff_id: uuid.UUID
    role: StaffRole
    session_id: uuid.UUID
    touch_due: bool = field(default=False, compare=False)


class NewStaff(Command):
    email: Email
    display_name: PersonName
    role: StaffRole
    password: str


class StaffAccounts:
    def __init__(self, db: Database, hasher: PasswordHasher, sessions: SessionStore[StaffSession],
                 throttle: Throttle) -> None:
        self._db = db
        self._hasher = hasher
        self._sessions = sessions
        self._throttle = throttle
        self._passwords = PasswordCheck(db, hasher, throttle)

    async def create(self, data: dict[str, object]) -> StaffUser:
        command = parse(NewStaff, data)
        check_new_password(command.password, command.email)
        password_hash = await self._hasher.hash(command.password)
        async with self._db.transaction() as session:
            taken = (await session.exec(select(StaffUser.id).where(StaffUser.email == command.email))).first()
            if taken is not None:
                raise Conflict("A staff user with that e-mail address exists.")
            staff = StaffUser(email=command.email, display_name=command.display_name, role=command.role.value,
                              password_hash=password_hash)
            session.add(staff)
        logger.info("staff user created staff_id=%s role=%s", staff.id, staff.role)
        return staff

    async def login(self, email: str, password: str, *, client_ip: str | None) -> tuple[str, StaffViewer]:
        """A session token for the staff member, or INVALID_CREDENTIALS (the same for any failure)."""
        if not email or not password or len(email) > 320 or len(password) > 1024:
            raise BadUserInput("E-mail address and password are required.")
        keys = self._throttle.keys(email, client_ip, scope="staff")
        async with self._db.read() as session:
            staff = (await session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower()))).first()
        usable = staff if staff is not None and staff.active else None
        new_hash = await self._passwords.confirm(keys, usable.password_hash if usable else None, password,
                                                 failure=InvalidCredentials(INVALID_CREDENTIALS), release=False)
        assert staff is not None
        async with self._db.transaction() as session:
            await self._throttle.release(session, keys)
            fresh = await session.get(StaffUser, staff.id)
            if fresh is None or not fresh.active:
                raise InvalidCredentials(INVALID_CREDENTIALS)
            if new_hash is not None:
                fresh.password_hash = new_hash
            fresh.last_login_at = utc_now()
            session.add(fresh)
            token, session_id = await self._sessions.create(session, fresh.id, client_ip)
        logger.info("staff login staff_id=%s", staff.id)
        return token, StaffViewer(fresh.id, StaffRole(fresh.role), session_id)

    async def viewer(self, session: AsyncSession, token: str | None) -> StaffViewer | None:
        if not token:
            return None
        row = await self._sessions.find_live(session, token)
        staff = await session.get(StaffUser, row.staff_user_id) if row else None
        if row is None or staff is None or not staff.active:
            return None
        return StaffViewer(staff.id, StaffRole(staff.role), row.id, touch_due=self._sessions.needs_touch(row))

    async def touch(self, viewer: StaffViewer) -> None:
        """The due last-seen update, after the read that found the session (see `Authentication.touch`)."""
        if viewer.touch_due:
            async with self._db.transaction() as session:
                await self._sessions.touch(session, viewer.session_id)

    async def logout(self, viewer: StaffViewer) -> None:
        async with self._db.transaction() as session:
            await self._sessions.revoke(session, viewer.session_id)

    async def deactivate(self, staff_id: uuid.UUID) -> None:
        async with self._db.transaction() as session:
            staff = await session.get(StaffUser, staff_id)
            if staff is not None:
                staff.active = False
                session.add(staff)
                await self._sessions.revoke_all(session, staff_id)

    # Operator commands (`shop-privacy staff list|disable|reset-password`): the operator runs the shop,
    # so the staff's own e-mail addresses are theirs to see.

    async def all(self) -> list[StaffUser]:
        async with self._db.read() as session:
            return list((await session.exec(select(StaffUser).order_by(StaffUser.created_at))).all())

    async def by_email(self, email: str) -> StaffUser | None:
        async with self._db.read() as session:
            return (await session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower()))).first()

    async def reset_password(self, staff_id: uuid.UUID, password: str) -> None:
        """A new password chosen by the operator; every session of the staff member ends."""
        async with self._db.read() as session:
            staff = await session.get(StaffUser, staff_id)
            email = staff.email if staff is not None else None
        if email is None:
            raise BadUserInput("No such staff user.")
        check_new_password(password, email)
        password_hash = await self._hasher.hash(password)
        async with self._db.transaction() as session:
            fresh = await session.get(StaffUser, staff_id)
            if fresh is None:
                raise BadUserInput("No such staff user.")
            fresh.password_hash = password_hash
            fresh.password_changed_at = utc_now()
            session.add(fresh)
            await self._sessions.revoke_all(session, staff_id)
        logger.info("staff password reset staff_id=%s", staff_id)
