"""Login sessions, password-reset tokens and failed-login counters. Tokens are stored only hashed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from ...privacy.declarations import Erasure, personal
from ...privacy.retention import Elapsed, sweep
from ..columns import personal_field, plain_field, subject_field, swept
from ..types import UTCDateTime, utc_now


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_sessions"
    __table_args__ = swept(sweep("sessions", "session", "expires_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = subject_field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    token_hash: str = plain_field(max_length=64, unique=True)  # SHA-256 of a 256-bit random token
    created_at: datetime = personal_field(
        personal(categories="user.authorization.session", purposes=("account", "fraud_prevention"),
                 retention="session", erasure=Erasure.DELETE, en="Logged in at", sv="Inloggad",
                 source="system"),
        default_factory=utc_now, sa_type=UTCDateTime,
    )
    last_seen_at: datetime = personal_field(
        personal(categories="user.authorization.session", purposes=("account", "fraud_prevention"),
                 retention="session", erasure=Erasure.DELETE, en="Last active", sv="Senast aktiv",
                 source="system"),
        default_factory=utc_now, sa_type=UTCDateTime,
    )
    # When the password was last given in this session: rights requests want it recent.
    authenticated_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = plain_field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
    ip_address: str | None = personal_field(
        personal(categories="user.device.ip_address", purposes="fraud_prevention", retention="session",
                 erasure=Erasure.DELETE, en="IP address at login", sv="IP-adress vid inloggning",
                 source="system"),
        default=None, max_length=45,
    )


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_tokens"
    __table_args__ = swept(sweep("password_reset_links", "password_reset", "created_at"))

    id: uuid.UUID = plain_field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = subject_field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    token_hash: str = plain_field(max_length=64, unique=True)
    created_at: datetime = personal_field(
        personal(categories="user.authorization.credentials", purposes="account", retention="password_reset",
                 erasure=Erasure.DELETE, en="Password reset requested", sv="Nytt lösenord begärt",
                 source="system"),
        default_factory=utc_now, sa_type=UTCDateTime,
    )
    expires_at: datetime = plain_field(sa_type=UTCDateTime)
    used_at: datetime | None = plain_field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed-login counters keyed by a keyed hash (HMAC) of the e-mail address or client address."""

    __tablename__ = "login_throttle"
    # A counter still locking the account out stays until the lock-out ends.
    __table_args__ = swept(sweep("failed_login_counters", "login_throttle", "window_started_at",
                                 Elapsed("locked_until")))

    key: str = personal_field(
        personal(categories="user.unique_id.pseudonymous", purposes="fraud_prevention",
                 retention="login_throttle", erasure=Erasure.DELETE,
                 en="Failed-login counter key (keyed hash)", sv="Nyckel för misslyckade inloggningar (hash)",
                 source="system"),
        primary_key=True, max_length=80,
    )
    failures: int = plain_field(default=0)
    window_started_at: datetime = plain_field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = plain_field(default=None, sa_type=UTCDateTime)
