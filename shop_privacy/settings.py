"""Configuration from environment variables (prefix SHOP_PRIVACY_, plus DATABASE_URL), with safe defaults.

Production mode refuses to start without a real secret key and a mail server; development mode
defaults everything so `shop-privacy serve --demo` works on a fresh machine.

Invalid settings raise `SettingsError`: every problem at once, one plain line each naming the
environment variable, never a value (pydantic's own message quotes the input, secrets included).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Only ever used in development mode; production refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
MINIMUM_SECRET_LENGTH = 32
ENV_PREFIX = "SHOP_PRIVACY_"


class SettingsError(ValidationError):
    """Invalid settings: `problems` holds one line per problem, "VARIABLE: what is wrong", and so does
    the message. A pydantic ValidationError (callers that catch that keep working) without any input."""

    problems: list[str]

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> SettingsError:
        error = cls.from_exception_data("Settings", [
            {"type": PydanticCustomError("settings", message), "loc": (variable,), "input": None}
            for variable, message in problems
        ])
        error.problems = [f"{variable}: {message}" for variable, message in problems]
        return error

    def __str__(self) -> str:
        return "\n".join(self.problems)

    def __repr__(self) -> str:
        return f"SettingsError({self.problems!r})"


def settings_problems(error: ValidationError) -> list[str]:
    """Plain lines for any settings ValidationError, without its input values."""
    if isinstance(error, SettingsError):
        return list(error.problems)
    return [f"{'.'.join(map(str, issue['loc'])) or 'settings'}: {issue['msg']}"
            for issue in error.errors(include_input=False, include_url=False)]


class _Problems(Exception):
    """Carries the problems out of validation; pydantic passes other exception types through as they are."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("\n".join(f"{variable}: {message}" for variable, message in problems))
        self.problems = problems


class Settings(BaseSettings):
    # hide_input_in_errors: should any pydantic error escape after all, it quotes no value.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, populate_by_name=True,
                                      hide_input_in_errors=True)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except _Problems as problems:
            raise SettingsError.of(problems.problems) from None

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
    # How stale a session's last-seen time may get before a request writes it again: writing it on
    # every request would turn every read into a write.
    session_touch_interval_seconds: int = Field(60, ge=1)
    # Staff sessions are shorter: they open everyone's data.
    staff_session_idle_timeout_seconds: int = Field(30 * 60, ge=60)
    staff_session_absolute_timeout_seconds: int = Field(10 * 3600, ge=300)
    password_reset_max_age_seconds: int = Field(3600, ge=60)
    email_change_max_age_seconds: int = Field(24 * 3600, ge=60)
    registration_max_age_seconds: int = Field(24 * 3600, ge=60)
    export_link_max_age_seconds: int = Field(7 * 24 * 3600, ge=300)
    cart_cookie_max_age_seconds: int = Field(30 * 24 * 3600, ge=3600)

    # Where the access log's signed checkpoints go (a file, or a directory for access-log-checkpoints.jsonl),
    # best on another host than the database: `audit checkpoint` and every `retention run` append one.
    audit_checkpoint_file: Path | None = None

    # Retention periods the sweep applies (`shop-privacy retention run`); the declarations name the rules.
    retention_anonymous_cart_days: int = Field(30, ge=1)
    retention_order_ip_days: int = Field(90, ge=1)
    retention_inactive_account_days: int = Field(3 * 365, ge=30)
    retention_inactivity_warning_days: int = Field(30, ge=1)
    # The month the shop's fiscal year starts (1: the calendar year); every bookkeeping deadline counts from
    # the end of the fiscal year an order was placed in.
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    retention_bookkeeping_years: int = Field(7, ge=7)  # the Bookkeeping Act's minimum

    # Failed logins inside the window before a lock-out, per account and per client address.
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_address: int = Field(30, ge=1)
    login_window_seconds: int = Field(15 * 60, ge=1)
    login_lockout_seconds: int = Field(15 * 60, ge=1)
    password_reset_mails_per_hour: int = Field(3, ge=1)
    # Registration mails (a confirmation link, or "you already have an account") to one address.
    registration_mails_per_hour: int = Field(3, ge=1)
    # E-mail changes one account may ask for.
    email_changes_per_hour: int = Field(3, ge=1)

    # GraphQL limits.
    max_query_depth: int = Field(12, ge=2)
    max_aliases: int = Field(15, ge=1)
    max_tokens: int = Field(2000, ge=50)
    max_page_size: int = Field(100, ge=1, le=100)

    # Development payment providers that record a reference without any network.
    payments_sandbox: bool | None = None

    # The account-mail queue (`shop-privacy outbox run` delivers it; docs/mail.md).
    # Attempts before a mail is marked failed, and the backoff between them (doubling up to the ceiling).
    mail_max_attempts: int = Field(12, ge=1)
    mail_retry_base_seconds: int = Field(60, ge=1)
    mail_retry_max_seconds: int = Field(6 * 3600, ge=1)
    # How long a worker owns a mail it took; one that dies meanwhile leaves the mail to the next worker.
    mail_claim_lease_seconds: int = Field(300, ge=60)
    # Days a sent or failed mail's address and content are kept before the retention sweep clears them.
    retention_sent_mail_days: int = Field(2, ge=0)

    # Deployment checks, cross-origin storefronts, log lines.
    # SQLite in production only when the operator says so (one host, one process): `check --deploy`.
    allow_sqlite_in_production: bool = False
    # Origins (scheme://host[:port]) of storefronts on another origin that may call the API with the
    # customer's cookies; comma-separated in the environment variable.
    cors_allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # "json": one JSON object per log line (time, level, logger, message, request id).
    log_format: Literal["text", "json"] = "text"

    # Backups that keep erasures: each completed erasure is also appended, signed, to this file
    # (best on another host than the database, beside the access-log checkpoints), for
    # `shop-privacy rights reapply` after a restore; a directory stands for erasure-ledger.jsonl in it.
    erasure_ledger_file: Path | None = None
    # How long the oldest backup is kept: the database's ledger rows are kept that long after the erasure.
    backup_retention_days: int = Field(90, ge=1)

    # Payment provider callbacks (order lifecycle, docs/orders.md): a provider's endpoint answers 404 until its
    # secret is set. Stripe's webhook signing secret (whsec_…); the secret PayPal events are signed with by the
    # shop's own verifier; the token in the callback URL given to Swish.
    stripe_webhook_secret: SecretStr | None = None
    paypal_webhook_secret: SecretStr | None = None
    swish_callback_token: SecretStr | None = None
    # How old a signed callback may be before it is refused as a possible replay (Stripe's default: 5 minutes).
    payment_webhook_tolerance_seconds: int = Field(300, ge=1)

    # Data-subject requests (docs/requests-and-breaches.md). The DPO (at `dpo_email`, in this language) is
    # reminded of open requests this many days before their due date, and of overdue ones, once a day.
    request_reminder_days: int = Field(7, ge=1)
    dpo_language: Literal["sv", "en"] = "sv"
    # How long the link that confirms the identity of someone who asked by e-mail stays valid.
    identity_challenge_max_age_seconds: int = Field(7 * 24 * 3600, ge=3600)
    # The reference account pages under /account/ (docs/account-pages.md): None serves them in development
    # only; a shop that wants them in production says True, and False turns them off everywhere.
    account_pages: bool | None = None
    # Fast read path (docs/performance.md). After start-up the objects alive then are frozen out of the
    # garbage collector's reach and its youngest generation collects at this many allocations (CPython's
    # default is 700): full collections of the start-up objects were the latency tail. Not much higher:
    # a young collection walks every object allocated since the last one (at 50,000, about 20 ms at once).
    # 0 leaves the collector as the interpreter set it.
    gc_generation0_threshold: int = Field(2_000, ge=0)
    # Trusted documents: a JSON file mapping each document's SHA-256 hash (hex) to its text, produced by
    # the storefront's build; requests may then send `documentId` or
    # `extensions.persistedQuery.sha256Hash` instead of the text.
    trusted_documents_file: Path | None = None
    # Refuse every operation whose document is not in that file (UNTRUSTED_DOCUMENT), on both endpoints.
    trusted_documents_only: bool = False
    # Run the storefront's supported trusted read documents through their compiled plans (docs/performance.md);
    # off, every document runs through the general executor.
    trusted_documents_compiled: bool = True

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def secret(self) -> str:
        return self.secret_key.get_secret_value() if self.secret_key else DEVELOPMENT_SECRET_KEY

    @property
    def sandbox_payments_enabled(self) -> bool:
        return (not self.production) if self.payments_sandbox is None else self.payments_sandbox

    @property
    def account_pages_served(self) -> bool:
        return (not self.production) if self.account_pages is None else self.account_pages

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> tuple[str, ...]:
        """"https://www.shop.se, https://shop.se" or a sequence; each an origin as browsers send it."""
        items = value.split(",") if isinstance(value, str) else list(value or ())
        origins = []
        for item in (str(item).strip() for item in items):
            if not item:
                continue
            try:
                parts = urlsplit(item)
                well_formed = (parts.scheme in {"http", "https"} and bool(parts.hostname) and "*" not in item
                               and not (parts.username or parts.password or parts.query or parts.fragment)
                               and parts.path in {"", "/"} and (parts.port is None or parts.port > 0))
            except ValueError:  # a port that is not a number; its message quotes the value
                well_formed = False
            if not well_formed:
                # No value in the message: what failed is named, not echoed.
                raise ValueError("each origin must be scheme://host[:port] (http or https, no path, no wildcard)")
            origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
        return tuple(dict.fromkeys(origins))

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: Callable[[Any], Settings]) -> Settings:
        problems: list[tuple[str, str]] = []
        settings: Settings | None
        try:
            settings = handler(data)
        except ValidationError as error:
            issues = error.errors(include_input=False, include_url=False)
            problems = [(cls._variable(issue["loc"]), issue["msg"]) for issue in issues]
            # The production checks too, with the values that failed left at their defaults, so that
            # one start names every problem.
            failed = {issue["loc"][0] for issue in issues if issue["loc"]}
            rest = {key: value for key, value in data.items() if key not in failed} if isinstance(data, dict) else {}
            try:
                settings = handler(rest)
            except ValidationError:
                settings = None
        if settings is not None:
            problems += settings._production_problems()
        if problems:
            raise _Problems(problems)
        return settings  # type: ignore[return-value]  # not None when there is no problem

    def _production_problems(self) -> list[tuple[str, str]]:
        if not self.production:
            return []
        problems: list[tuple[str, str]] = []
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < MINIMUM_SECRET_LENGTH or key == DEVELOPMENT_SECRET_KEY:
            problems.append((f"{ENV_PREFIX}SECRET_KEY",
                             f"must be set to at least {MINIMUM_SECRET_LENGTH} random characters in production"))
        if not self.smtp_url:
            problems.append((f"{ENV_PREFIX}SMTP_URL", "must be set in production"))
        return problems

    @classmethod
    def _variable(cls, loc: tuple[int | str, ...]) -> str:
        """The environment variable behind an error's location: a field's first alias, or the prefixed name."""
        key = str(loc[0]) if loc else ""
        for name, field in cls.model_fields.items():
            choices = getattr(field.validation_alias, "choices", None) or []
            if key == name or key in choices:
                return str(choices[0]) if choices else f"{ENV_PREFIX}{name.upper()}"
        return key.upper() or "settings"
