"""What an export holds, independent of how it is written (JSON for machines, HTML for people)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ..privacy.declarations import PersonalData
from ..privacy.purposes import PURPOSES
from ..privacy.recipients import RECIPIENTS, Recipient
from ..privacy.retention import RETENTION_RULES
from ..privacy.subject_rights import SUBJECT_RIGHTS
from ..privacy.taxonomy import covers
from .subject_map import Subject

FORMAT = "shop_privacy/export"
VERSION = 1

SOURCES = {
    "data_subject": {"en": "You gave it to us", "sv": "Du lämnade den till oss"},
    "system": {"en": "Recorded by the shop's systems", "sv": "Registrerad av butikens system"},
    "shop": {"en": "Set by the shop", "sv": "Angiven av butiken"},
}
LEGAL_BASES = {
    "contract": {"en": "Contract (GDPR Art. 6(1)(b))", "sv": "Avtal (GDPR art. 6.1 b)"},
    "legal_obligation": {"en": "Legal obligation (GDPR Art. 6(1)(c))", "sv": "Rättslig förpliktelse (GDPR art. 6.1 c)"},
    "consent": {"en": "Consent (GDPR Art. 6(1)(a))", "sv": "Samtycke (GDPR art. 6.1 a)"},
    "legitimate_interest": {"en": "Legitimate interest (GDPR Art. 6(1)(f))",
                            "sv": "Berättigat intresse (GDPR art. 6.1 f)"},
}
# In the order a person reads them.
SECTION_LABELS = {
    "customers": {"en": "Your account", "sv": "Ditt konto"},
    "orders": {"en": "Orders", "sv": "Beställningar"},
    "order_lines": {"en": "Ordered services", "sv": "Beställda tjänster"},
    "order_events": {"en": "Changes of your orders", "sv": "Ändringar av dina beställningar"},
    "carts": {"en": "Cart", "sv": "Varukorg"},
    "cart_lines": {"en": "Items in the cart", "sv": "Varor i varukorgen"},
    "consents": {"en": "Consents", "sv": "Samtycken"},
    "auth_sessions": {"en": "Logins", "sv": "Inloggningar"},
    "rectifications": {"en": "Corrections of your data", "sv": "Rättelser av dina uppgifter"},
    "subject_requests": {"en": "Your requests about your data", "sv": "Dina begäranden om dina uppgifter"},
    "access_log": {"en": "Staff who read your data", "sv": "Personal som har läst dina uppgifter"},
    "password_reset_tokens": {"en": "Password resets", "sv": "Byten av lösenord"},
    "login_throttle": {"en": "Failed logins", "sv": "Misslyckade inloggningar"},
    "pending_registrations": {"en": "Unconfirmed registrations", "sv": "Obekräftade registreringar"},
    "disclosures": {"en": "Data we have passed on to others", "sv": "Uppgifter vi har lämnat ut till andra"},
    "outbox_messages": {"en": "Messages to recipients, waiting or sent", "sv": "Meddelanden till mottagare"},
    "account_mails": {"en": "Mails to you about your account", "sv": "Mejl till dig om ditt konto"},
    "erasure_ledger": {"en": "Records that your data was erased", "sv": "Anteckningar om att dina uppgifter raderats"},
    "processing_limits": {"en": "Restrictions of and objections to the use of your data",
                          "sv": "Begränsningar av och invändningar mot behandlingen av dina uppgifter"},
}


def section_label(name: str, info: Mapping[str, Any]) -> dict[str, str]:
    """A section's heading: the package's own label, else the table's (`info={"label_en": …,
    "label_sv": …}`), else its name made readable; never a raw table name."""
    if name in SECTION_LABELS:
        return dict(SECTION_LABELS[name])
    readable = name.replace("_", " ").strip().capitalize()
    return {"en": str(info.get("label_en") or readable), "sv": str(info.get("label_sv") or readable)}


def recipients_of(category: str, purposes: set[str]) -> list[Recipient]:
    """The recipients the registry declares for `category` under one of `purposes` (Art. 15(1)(c)):
    who may get it, whether or not it has gone to them yet."""
    return [r for r in RECIPIENTS.values() if r.may_receive(category, purposes)]


def recipient_json(recipient: Recipient) -> dict[str, Any]:
    return {"recipient": recipient.key, "name": recipient.name, "country": recipient.country,
            "purposes": list(recipient.purposes), "outsideEuEea": recipient.outside_eu_eea,
            "transfer": recipient.transfer}


def rights_json(*, dpo: str, authority: str) -> list[dict[str, Any]]:
    return [{"right": right.key, "article": right.article, "label": dict(right.label),
             "how": {language: right.how_in(language, dpo=dpo, authority=authority) for language in ("en", "sv")}}
            for right in SUBJECT_RIGHTS]


# Values that are secrets: the export says they exist, never what they are.
SECRET_CATEGORY = "user.authorization.credentials"
SECRET_VALUE = "[kept only as a one-way hash; not shown]"


@dataclass(frozen=True)
class ExportColumn:
    name: str
    declaration: PersonalData

    @property
    def secret(self) -> bool:
        return any(covers(SECRET_CATEGORY, category) for category in self.declaration.categories)

    def converter(self) -> Callable[[Any], Any]:
        """Turns a stored value into what the export shows (a secret only says that it exists)."""
        if self.secret:
            return lambda raw: None if raw is None else SECRET_VALUE
        return json_value


@dataclass(frozen=True)
class ExportRow:
    id: str | None
    parent: str | None
    values: Mapping[str, Any]  # JSON-ready
    erase_on: Mapping[str, str | None]  # retention rule -> ISO date (None: as long as something else lasts)


@dataclass(frozen=True)
class Section:
    name: str
    label: Mapping[str, str]
    columns: tuple[ExportColumn, ...]
    rows: Callable[[], AsyncIterator[ExportRow]]


@dataclass(frozen=True)
class Exporter:
    """A plugin's own section: data the shop keeps outside these tables (another system, files)."""

    name: str
    label: Mapping[str, str]
    columns: tuple[ExportColumn, ...]
    rows: Callable[[AsyncSession, Subject], AsyncIterator[ExportRow]]


@dataclass
class CategorySummary:
    """Per category: what it is used for, on which basis, from where, until when."""

    key: str
    labels: dict[str, set[str]] = field(default_factory=lambda: {"en": set(), "sv": set()})
    purposes: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    retention: set[str] = field(default_factory=set)
    latest_erase_on: str | None = None
    open_ended: bool = False

    def note_column(self, declaration: PersonalData) -> None:
        self.labels["en"].add(declaration.label_en)
        self.labels["sv"].add(declaration.label_sv)
        self.purposes.update(declaration.purposes)
        self.sources.add(declaration.source)
        self.retention.add(declaration.retention)

    def note_erase_on(self, day: str | None) -> None:
        if day is None:
            self.open_ended = True
        elif self.latest_erase_on is None or day > self.latest_erase_on:
            self.latest_erase_on = day

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.key,
            "labels": {lang: sorted(names) for lang, names in self.labels.items()},
            "purposes": [
                {"purpose": p, "legalBasis": str(PURPOSES[p].legal_basis),
                 "description": {"en": PURPOSES[p].description_en, "sv": PURPOSES[p].description_sv}}
                for p in sorted(self.purposes) if p in PURPOSES
            ],
            "sources": sorted(self.sources),
            "retention": [{"rule": r, "description": dict(RETENTION_RULES[r].description)}
                          for r in sorted(self.retention) if r in RETENTION_RULES],
            "recipients": [recipient_json(r) for r in recipients_of(self.key, self.purposes)],
            "erasedBy": self.latest_erase_on,
            "keptWhileAccountExists": self.open_ended,
        }


_PLAIN = (str, int, float, bool, type(None))


def json_value(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, datetime):
        # Stored times are UTC; SQLite hands a plugin's plain DateTime column back without its zone.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value
