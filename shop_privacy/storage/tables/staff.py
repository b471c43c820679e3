"""Staff users (support, fulfilment, accounting, marketing, the DPO) and their sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, Mask, personal
from ...privacy.retention import sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


def _staff(category: str, en: str, sv: str, *, mask: Mask = Mask.NONE, source: str = "data_subject"):  # noqa: ANN202
    return personal(categories=category, purposes="staff_administration", retention="staff_account",
                    erasure=Erasure.DELETE, mask=mask, en=en, sv=sv, source=source)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: uuid.UUID = subject_field(subject="staff", is_key=True, default_factory=uuid.uuid4, primary_key=True)
    email: str = personal_field(_staff("user.contact.email", "E-mail address", "E-postadress", mask=Mask.EMAIL),
                                max_length=254, unique=True)
    password_hash: str = personal_field(
        _staff("user.authorization.credentials", "Password (one-way hash)", "Lösenord (envägshash)"),
        max_length=512,
    )
    display_name: str = personal_field(_staff("user.name", "Name", "Namn"), max_length=200)
    role: str = personal_field(_staff("user.account.status", "Role", "Roll", source="shop"), max_length=16)
    active: bool = plain_field(default=True)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    last_login_at: datetime | None = personal_field(
        _staff("user.account.status", "Last login", "Senaste inloggning", source="system"),
        default=None, sa_type=UTCDateTime,
    )
    password_changed_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_sessions"
    __table_args__ = swept(sweep("staff_sessions", "session", "expires_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    staff_user_id: uuid.UUID = subject_field(subject="staff", foreign_key="staff_users.id", index=True,
                                             ondelete="CASCADE")
    token_hash: str = plain_field(max_length=64, unique=True)
    created_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    last_seen_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = plain_field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    ip_address: str | None = personal_field(
        _staff("user.device.ip_address", "IP address at login", "IP-adress vid inloggning", source="system"),
        default=None, max_length=45,
    )
