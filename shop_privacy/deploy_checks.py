"""What a production deployment must not run with: `shop-privacy check --deploy`, and the same rules
when `create_app` starts in production.

Each problem is one plain line naming the environment variable (or option) and what is wrong with it,
never its value: the lines go to terminals, CI logs and crash reports, and some values are secrets.
The rules look only at the settings object, so a shop that builds its settings in code gets the same
answer as one that sets environment variables.
"""

from __future__ import annotations

import ipaddress
import math
import sys
from collections import Counter
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import ValidationError

from .mail.mailer import Smtp
from .settings import DEVELOPMENT_SECRET_KEY, ENV_PREFIX, MINIMUM_SECRET_LENGTH, Settings, settings_problems
from .storage.urls import DatabaseURL

# Estimated from the key's own character frequencies (Shannon), times its length. 32 random hex
# characters (128 bits) estimate at 93 bits or more; 32 × "a" at 0, "abcd" × 8 at 64.
MINIMUM_SECRET_ENTROPY_BITS = 80
# A run this long that occurs twice in a key was typed or pasted, not drawn at random.
REPEATED_RUN = 8
# Neighbouring characters (one step apart or equal) this many in a row were typed, not drawn.
SEQUENTIAL_RUN = 4
# Host names reserved for examples and tests (RFC 2606, RFC 6761) and this package's own defaults.
_EXAMPLE_LABEL = "example"
_RESERVED_SUFFIXES = ("localhost", "invalid", "test", "local")
_LOCAL_HOSTS = {"localhost", "0.0.0.0", "::"}
DEMO_OPTION = "serve --demo"


class DeployProblem(NamedTuple):
    """One thing to fix before deploying: the variable (or option) and what is wrong, without its value."""

    variable: str
    message: str

    @property
    def line(self) -> str:
        return f"{self.variable}: {self.message}"


def deployment_problems(settings: Settings, *, demo: bool = False) -> list[DeployProblem]:
    """Every rule a production deployment breaks, in the order of the settings; empty when it may start.
    `demo` is `serve --demo`: demo data (a customer with a published password) never goes live."""
    problems: list[DeployProblem] = []
    if not settings.production:
        problems.append(DeployProblem(f"{ENV_PREFIX}ENV", "must be production on a deployed shop"))
    problems += _database(settings)
    problems += _secret_key(settings)
    problems += _public_url(settings.storefront_url, "STOREFRONT_URL")
    problems += _public_url(settings.api_url, "API_URL")
    problems += _smtp(settings)
    problems += _controller(settings)
    problems += _cors(settings)
    problems += _audit_checkpoints(settings)
    if demo:
        problems.append(demo_refusal())
    return problems


def demo_refusal() -> DeployProblem:
    return DeployProblem(DEMO_OPTION, "demo data (a customer whose password is published) is refused in production")


def refuse_demo(settings: Settings, demo: bool) -> DeployProblem | None:
    """For `serve`: the refusal when `--demo` is asked for in production, before anything is seeded."""
    return demo_refusal() if demo and settings.production else None


def check_environment() -> list[str]:
    """The lines `shop-privacy check --deploy` prints: the settings read from the environment, checked
    against every rule; empty when the deployment may start."""
    try:
        settings = Settings()
    except ValidationError as error:
        try:
            # Only production's own requirements failed? The rules below include them, with the rest.
            relaxed = Settings(environment="development")
        except ValidationError:
            return settings_problems(error)  # values that are not even valid: every one of those first
        settings = relaxed.model_copy(update={"environment": "production"})
    return [problem.line for problem in deployment_problems(settings)]


def _database(settings: Settings) -> list[DeployProblem]:
    try:
        sqlite = DatabaseURL.parse(settings.database_url).is_sqlite
    except Exception:  # noqa: BLE001 - the parser's message may quote the URL, password included
        return [DeployProblem("DATABASE_URL", "is not a database URL this package can use")]
    if sqlite and not settings.allow_sqlite_in_production:
        return [DeployProblem("DATABASE_URL", "is SQLite: use PostgreSQL, or set "
                              f"{ENV_PREFIX}ALLOW_SQLITE_IN_PRODUCTION=true for a single-host, single-process shop")]
    return []


def _secret_key(settings: Settings) -> list[DeployProblem]:
    variable = f"{ENV_PREFIX}SECRET_KEY"
    key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    weakness = secret_weakness(key)
    return [DeployProblem(variable, weakness)] if weakness else []


def secret_weakness(key: str) -> str | None:
    """Why `key` is no secret key for production, in words that do not repeat it; None if it will do.
    Generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`."""
    advice = f"must be at least {MINIMUM_SECRET_LENGTH} random characters (secrets.token_urlsafe(32))"
    if not key:
        return f"is not set: it {advice}"
    if key == DEVELOPMENT_SECRET_KEY or DEVELOPMENT_SECRET_KEY in key:
        return f"is the development key: it {advice}"
    if len(key) < MINIMUM_SECRET_LENGTH:
        return f"is too short: it {advice}"
    if _repeats_a_run(key):
        return f"repeats a part of itself: it {advice}"
    if _mostly_sequential(key):
        return f"is mostly a sequence of neighbouring characters: it {advice}"
    if _entropy_bits(key) < MINIMUM_SECRET_ENTROPY_BITS:
        return f"has too few different characters to be random: it {advice}"
    return None


def _entropy_bits(key: str) -> float:
    counts = Counter(key)
    return -sum(count * math.log2(count / len(key)) for count in counts.values())


def _repeats_a_run(key: str) -> bool:
    seen: set[str] = set()
    for start in range(len(key) - REPEATED_RUN + 1):
        run = key[start:start + REPEATED_RUN]
        if run in seen:
            return True
        seen.add(run)
    return False


def _mostly_sequential(key: str) -> bool:
    """abcdef…, 0123…, zyxw…, aaabbb…: more than half the key in runs of at least `SEQUENTIAL_RUN` characters,
    each one step from the one before it (or equal). Counting single steps wherever they stood refused a
    random key now and then (about 1 in 75,000 keys of 32 hex digits has sixteen such steps scattered
    through it); a key typed along the alphabet or the digits has them in long runs."""
    in_runs, run = 0, 1
    for before, after in zip(key, key[1:], strict=False):
        if abs(ord(after) - ord(before)) <= 1:
            run += 1
            continue
        in_runs += run if run >= SEQUENTIAL_RUN else 0
        run = 1
    in_runs += run if run >= SEQUENTIAL_RUN else 0
    return in_runs * 2 > len(key)


def _public_url(url: str, name: str) -> list[DeployProblem]:
    variable = f"{ENV_PREFIX}{name}"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return [DeployProblem(variable, "is not a URL")]
    if not host:
        return [DeployProblem(variable, "is not a URL with a host name")]
    problems: list[DeployProblem] = []
    if _is_local(host):
        problems.append(DeployProblem(variable, "points to this machine (localhost or a loopback address): "
                                      "set the address customers reach"))
    elif _is_example(host):
        problems.append(DeployProblem(variable, "is an example or test host name: set the shop's own"))
    if parts.scheme != "https":
        problems.append(DeployProblem(variable, "must be https:// in production (links in mails carry tokens)"))
    return problems


def _is_local(host: str) -> bool:
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _is_example(host: str) -> bool:
    labels = host.split(".")
    # example.com, example.se, shop.example.org, anything.example; and the reserved test names.
    return _EXAMPLE_LABEL in labels[-2:] or labels[-1] in _RESERVED_SUFFIXES


def _smtp(settings: Settings) -> list[DeployProblem]:
    variable = f"{ENV_PREFIX}SMTP_URL"
    if not settings.smtp_url:
        return [DeployProblem(variable, "must be set in production (mail would go to a folder on this host)")]
    try:
        Smtp(settings.smtp_url)  # the mailer's own parsing: what it accepts is what works
    except ValueError:
        return [DeployProblem(variable, "must be smtp://user:password@host:587 (STARTTLS), "
                              "smtps://user:password@host:465 (TLS) or smtp+plain://localhost:25 (a local relay)")]
    return []


def _controller(settings: Settings) -> list[DeployProblem]:
    """The controller and its DPO are named in every export and the record of processing (P01, P28)."""
    problems: list[DeployProblem] = []
    for field, what in (("controller_name", "the controller's name"), ("dpo_email", "the DPO's address"),
                        ("mail_from", "the sender of the shop's mails")):
        value = getattr(settings, field)
        default = Settings.model_fields[field].default
        if value == default or _mentions_example_domain(value):
            problems.append(DeployProblem(f"{ENV_PREFIX}{field.upper()}",
                                          f"is still the example value: set {what}"))
    return problems


def _audit_checkpoints(settings: Settings) -> list[DeployProblem]:
    """Without checkpoints kept off the database, the access log is never cut at its 3-year rule (P11:
    the retention run refuses a cut it could not vouch for) and rows cut from its end go unnoticed."""
    if settings.audit_checkpoint_file is not None:
        return []
    return [DeployProblem(f"{ENV_PREFIX}AUDIT_CHECKPOINT_FILE",
                          "is not set: the access log's checkpoints (and its 3-year retention cut) need a file "
                          "on another host than the database")]


def _mentions_example_domain(value: str) -> bool:
    _, at, domain = value.rpartition("@")
    return bool(at) and _is_example(domain.strip().lower())


def _cors(settings: Settings) -> list[DeployProblem]:
    plain = [origin for origin in settings.cors_allowed_origins if not origin.startswith("https://")]
    insecure = [origin for origin in settings.cors_allowed_origins
                if _is_local((urlsplit(origin).hostname or "").lower())]
    problems: list[DeployProblem] = []
    if plain:
        problems.append(DeployProblem(f"{ENV_PREFIX}CORS_ALLOWED_ORIGINS",
                                      f"{len(plain)} origin(s) not https://: cookies would cross in the clear"))
    if insecure:
        problems.append(DeployProblem(f"{ENV_PREFIX}CORS_ALLOWED_ORIGINS",
                                      f"{len(insecure)} origin(s) on this machine (localhost or a loopback address)"))
    return problems


def check_command(*, deploy: bool, settings: Settings | None = None) -> int:
    """`shop-privacy check [--deploy]`: 0 when clean, 1 with every problem, one line each on standard output.
    Without --deploy only the settings themselves are checked (what every command needs). `settings`: a
    shop's own, built in code; None reads the environment."""
    if settings is not None:
        lines = [problem.line for problem in deployment_problems(settings)] if deploy else []
    elif deploy:
        lines = check_environment()
    else:
        try:
            Settings()
            lines = []
        except ValidationError as error:
            lines = settings_problems(error)
    for line in lines:
        print(line)
    if lines:
        print(f"shop-privacy check: {len(lines)} problem(s)", file=sys.stderr)
        return 1
    print("deployment checks passed" if deploy else "settings are valid")
    return 0
