"""Retention rules: how long a declared value may be kept, counted from which moment; and sweeps, declared
on a table beside its columns, that say which of its rows a rule applies to and which column starts its clock.

Periods here are defaults; the settings object may shorten or lengthen them per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class RetentionRule:
    key: str
    anchor: str  # what the period runs from
    period: timedelta | None  # None: as long as the anchor exists (e.g. the account)
    description_en: str
    description_sv: str
    years: int = 0  # for periods counted in whole years (the Bookkeeping Act's seven)

    @property
    def description(self) -> Mapping[str, str]:
        return {"en": self.description_en, "sv": self.description_sv}


@dataclass(frozen=True)
class IsNull:
    """Only rows where `column` is empty, e.g. the customer link of an order whose account is gone."""

    column: str


@dataclass(frozen=True)
class NotNull:
    column: str


@dataclass(frozen=True)
class OneOf:
    """Only rows where `column` holds one of `values`, e.g. a request that is handled."""

    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Elapsed:
    """Only rows where the moment in `column` has passed, or there is none (a lock-out that has ended)."""

    column: str


Criterion = IsNull | NotNull | OneOf | Elapsed


@dataclass(frozen=True)
class Sweep:
    """How the retention sweep applies `rule` to the table it is declared on: the rows the `only` criteria
    select whose `clock` (the first of these columns that is set) is past the rule's period are deleted
    or, with `reduce`, keep their row and lose the values of the columns declared with this rule."""

    name: str  # the step's name in the sweep's report
    rule: str  # a key of RETENTION_RULES: the period (or the years after the fiscal year) and its wording
    clock: tuple[str, ...]
    only: tuple[Criterion, ...] = ()
    reduce: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the sweep names, for the start-up check."""
        return (*self.clock, *(criterion.column for criterion in self.only))


def sweep(name: str, rule: str, clock: str | tuple[str, ...], *only: Criterion, reduce: bool = False) -> Sweep:
    return Sweep(name, rule, (clock,) if isinstance(clock, str) else tuple(clock), tuple(only), reduce)


# "While the account exists": a row whose link to the customer is gone (erased, or never had one).
ACCOUNT_GONE = IsNull("customer_id")


def _rule(key: str, anchor: str, period: timedelta | None, en: str, sv: str,
          years: int = 0) -> tuple[str, RetentionRule]:
    return key, RetentionRule(key, anchor, period, en, sv, years)


@dataclass(frozen=True)
class FiscalYear:
    """The shop's fiscal year, from the first day of `start_month`: 1 is the calendar year (the Swedish
    default); a company may have a broken fiscal year ("brutet räkenskapsår"), e.g. July to June."""

    start_month: int = 1

    def start_of(self, moment: datetime | date) -> date:
        """The first day of the fiscal year `moment` falls in."""
        year = moment.year if moment.month >= self.start_month else moment.year - 1
        return date(year, self.start_month, 1)

    def end_of(self, moment: datetime | date, *, years_after: int = 0) -> date:
        """The last day of the fiscal year `moment` falls in, `years_after` years later (counted from the
        next year's start, so a fiscal year ending on 29 February never lands on a day that does not exist)."""
        start = self.start_of(moment)
        return date(start.year + 1 + years_after, start.month, 1) - timedelta(days=1)

    def kept_until_cutoff(self, now: datetime, years: int) -> datetime:
        """Rows placed before this moment are more than `years` past the end of their fiscal year."""
        start = self.start_of(now)
        return datetime(start.year - years, start.month, 1, tzinfo=UTC)


CALENDAR_YEAR = FiscalYear()


def end_of_fiscal_year(moment: datetime | date, fiscal_year: FiscalYear = CALENDAR_YEAR) -> date:
    return fiscal_year.end_of(moment)


def erase_on(rule: RetentionRule, anchors: Mapping[str, datetime | date | None],
             fiscal_year: FiscalYear = CALENDAR_YEAR) -> date | None:
    """The day a value under `rule` is due for erasure, from the row's anchor values; None while it
    lasts as long as something else does (the account, the employment)."""
    if rule.anchor == "end_of_fiscal_year":
        placed = anchors.get("placed_at")
        if placed is None:
            return None
        return fiscal_year.end_of(placed, years_after=rule.years)
    base = anchors.get(rule.anchor)
    if base is None or rule.period is None:
        return None
    return (base + rule.period).date() if isinstance(base, datetime) else base + rule.period


DAY = timedelta(days=1)
RETENTION_RULES: Mapping[str, RetentionRule] = dict(
    [
        _rule("account", "last_activity", 3 * 365 * DAY,
              "While the account is used; removed after three years without activity",
              "Så länge kontot används; tas bort efter tre år utan aktivitet"),
        _rule("pending_registration", "expires_at", 0 * DAY,
              "Until the e-mail address is confirmed, at most one day",
              "Tills e-postadressen bekräftats, högst ett dygn"),
        _rule("session", "expires_at", 30 * DAY,
              "Until the session ends, then 30 days as login history",
              "Tills inloggningen upphör, sedan 30 dagar som inloggningshistorik"),
        _rule("login_throttle", "window_started_at", DAY,
              "One day after the last failed login", "Ett dygn efter senaste misslyckade inloggning"),
        _rule("password_reset", "created_at", DAY,
              "One day after the reset was requested", "Ett dygn efter begäran om nytt lösenord"),
        _rule("anonymous_cart", "updated_at", 30 * DAY,
              "30 days after the cart was last changed", "30 dagar efter att varukorgen senast ändrades"),
        _rule("order_contact", "account", None,
              "As long as the account exists, at most until the bookkeeping period ends",
              "Så länge kontot finns, längst tills bokföringsperioden löper ut"),
        _rule("order_ip_address", "placed_at", 90 * DAY,
              "90 days after the order was placed", "90 dagar efter att beställningen lades"),
        _rule("staff_account", "employment", None,
              "While the staff member works for the shop", "Så länge personen arbetar för butiken"),
        # The legal-claims period: proof that a consent was given (and withdrawn) outlives the account.
        _rule("consent_record", "account_closed_at", 3 * 365 * DAY,
              "While the account exists, then three years after it is closed, as proof of what was consented "
              "to and withdrawn",
              "Så länge kontot finns, sedan tre år efter att det avslutats, som bevis på vad som samtyckts till "
              "och återkallats"),
        # The period is the setting `visitor_cookie_max_age_seconds`: the cookie's own life.
        _rule("visitor_consent", "recorded_at", 365 * DAY,
              "A visitor's cookie choice: as long as the cookie that remembers it",
              "En besökares val om kakor: så länge kakan som kommer ihåg det"),
        _rule("access_log", "recorded_at", 3 * 365 * DAY,
              "Three years after the access", "Tre år efter åtkomsten"),
        _rule("rights_request", "received_at", 3 * 365 * DAY,
              "Three years after the request, to show how it was handled",
              "Tre år efter begäran, för att visa hur den hanterades"),
        _rule("rectification", "changed_at", 3 * 365 * DAY,
              "Three years after the change", "Tre år efter ändringen"),
        _rule("disclosure_log", "disclosed_at", 3 * 365 * DAY,
              "Three years after the disclosure", "Tre år efter utlämnandet"),
        _rule("outbox", "created_at", 30 * DAY,
              "Until the recipient has it, at most 30 days", "Tills mottagaren har fått det, högst 30 dagar"),
        _rule("account_mail", "sent_at", 2 * DAY,
              "Until the mail is sent, then two days; the record that it was sent 30 days",
              "Tills mejlet har skickats, sedan två dygn; uppgiften att det skickades 30 dagar"),
        _rule("account_mail_record", "created_at", 30 * DAY,
              "That a mail was sent (no address, no content): 30 days",
              "Att ett mejl skickades (utan adress och innehåll): 30 dagar"),
        _rule("bookkeeping", "end_of_fiscal_year", None,
              "Seven years after the end of the fiscal year (Swedish Bookkeeping Act)",
              "Sju år efter räkenskapsårets utgång (bokföringslagen)", years=7),
        # The period is the setting `backup_retention_days`: the sweep applies it.
        _rule("erasure_ledger", "erased_at", None,
              "As long as backups taken before the erasure are kept, so a restored one is erased again",
              "Så länge säkerhetskopior från före raderingen sparas, så att en återställd raderas igen"),
    ]
)
