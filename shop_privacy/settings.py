"""Configuration from environment variables (prefix SHOP_PRIVACY_, plus DATABASE_URL), with safe defaults.

Production mode refuses to start without a real secret key and a mail server; development mode
defaults everything so `shop-privacy serve --demo` works on a fresh machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only ever used in development mode; production refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
MINIMUM_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_PRIVACY_", frozen=True, populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=AliasChoices("SHOP_PRIVACY_ENV", "environment")
    )
    database_url: str = Field(
        "sqlite:///shop_privacy.db",
        validation_alias=AliasChoices("DATABASE_URL", "SHOP_PRIVACY_DATABASE_URL", "database_url"),
    )
    secret_key: SecretStr | None = None
    # Where the storefront lives: links in mails point there.
    storefront_url: str = "http://localhost:8000"

    # The controller (P01, P28): named in exports and the record of processing.
    controller_name: str = "Example IT-tjänster AB"
    dpo_email: str = "dpo@example.se"
    supervisory_authority: str = "Integritetsskyddsmyndigheten (IMY), https://www.imy.se"
    # The version of the privacy policy a consent was given under; recorded with each consent.
    policy_version: str = "2026-11"

    # Mail: SMTP when configured, otherwise files in a development outbox folder.
    smtp_url: str | None = None  # smtp://user:password@host:587 (STARTTLS) or smtps://…:465
    mail_from: str = "no-reply@example.se"
    mail_outbox_dir: Path = Path("mail_outbox")
    # Development only: messages to recipients (Stripe, Mailchimp, …) as JSON files, when no plugin
    # provides a real adapter. In production a recipient without an adapter keeps its messages waiting.
    recipient_outbox_dir: Path = Path("recipient_outbox")
    # Where this API is reached from outside: unsubscribe links in mails point here.
    api_url: str = "http://localhost:8000"
    unsubscribe_link_max_age_seconds: int = Field(365 * 24 * 3600, ge=3600)
    visitor_cookie_max_age_seconds: int = Field(365 * 24 * 3600, ge=3600)

    # Argon2id. The default is RFC 9106's low-memory profile; nothing below OWASP's minimum is accepted.
    password_time_cost: int = Field(3, ge=2)
    password_memory_kib: int = Field(65536, ge=19456)
    password_parallelism: int = Field(4, ge=1)
    password_hash_concurrency: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)

    session_idle_timeout_seconds: int = Field(24 * 3600, ge=60)
    session_absolute_timeout_seconds: int = Field(30 * 24 * 3600, ge=300)
    # Staff sessions are shorter: they open everyone's data.
    staff_session_idle_timeout_seconds: int = Field(30 * 60, ge=60)
    staff_session_absolute_timeout_seconds: int = Field(10 * 3600, ge=300)
    password_reset_max_age_seconds: int = Field(3600, ge=60)
    email_change_max_age_seconds: int = Field(24 * 3600, ge=60)
    registration_max_age_seconds: int = Field(24 * 3600, ge=60)
    export_link_max_age_seconds: int = Field(7 * 24 * 3600, ge=300)
    cart_cookie_max_age_seconds: int = Field(30 * 24 * 3600, ge=3600)

    # Retention periods the sweep applies (`shop-privacy retention run`); the declarations name the rules.
    retention_anonymous_cart_days: int = Field(30, ge=1)
    retention_order_ip_days: int = Field(90, ge=1)
    retention_inactive_account_days: int = Field(3 * 365, ge=30)
    retention_inactivity_warning_days: int = Field(30, ge=1)
    retention_bookkeeping_years: int = Field(7, ge=7)  # the Bookkeeping Act's minimum

    # Failed logins inside the window before a lock-out, per account and per client address.
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_address: int = Field(30, ge=1)
    login_window_seconds: int = Field(15 * 60, ge=1)
    login_lockout_seconds: int = Field(15 * 60, ge=1)
    password_reset_mails_per_hour: int = Field(3, ge=1)

    # GraphQL limits.
    max_query_depth: int = Field(12, ge=2)
    max_aliases: int = Field(15, ge=1)
    max_tokens: int = Field(2000, ge=50)
    max_page_size: int = Field(100, ge=1, le=100)

    # Development payment providers that record a reference without any network.
    payments_sandbox: bool | None = None

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def secret(self) -> str:
        return self.secret_key.get_secret_value() if self.secret_key else DEVELOPMENT_SECRET_KEY

    @property
    def sandbox_payments_enabled(self) -> bool:
        return (not self.production) if self.payments_sandbox is None else self.payments_sandbox

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.production:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MINIMUM_SECRET_LENGTH or key == DEVELOPMENT_SECRET_KEY:
                raise ValueError(
                    f"SHOP_PRIVACY_SECRET_KEY must be set to at least {MINIMUM_SECRET_LENGTH} random "
                    "characters in production"
                )
            if not self.smtp_url:
                raise ValueError("SHOP_PRIVACY_SMTP_URL must be set in production")
        return self
