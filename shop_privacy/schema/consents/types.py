"""GraphQL types of consent and of disclosures."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from ...storage.tables import Consent as ConsentRow
from ...storage.tables import Disclosure as DisclosureRow
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.personal import personal


@strawberry.enum(description="Purposes that need the customer's consent.")
class ConsentPurpose(enum.Enum):
    NEWSLETTER = "newsletter"
    MARKETING = "marketing"
    PERSONALISATION = "personalisation"
    ANALYTICS = "analytics"


@strawberry.enum(description="Where the customer answered.")
class ConsentSource(enum.Enum):
    ACCOUNT_PAGE = "account_page"
    CHECKOUT = "checkout"
    COOKIE_BANNER = "cookie_banner"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    STAFF = "staff"


@strawberry.type(description="One answer: given or withdrawn, when, where, under which policy version.")
class ConsentRecord:
    granted: bool | None = personal(ConsentRow.granted)
    recorded_at: datetime | None = personal(ConsentRow.recorded_at)
    source: ConsentSource
    policy_version: str
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: ConsentRow, guard: PrivacyGuard) -> ConsentRecord:
        return cls(**guard.shape_held(cls, row.customer_id, {  # type: ignore[arg-type]
            "granted": row.granted, "recorded_at": row.recorded_at, "source": ConsentSource(row.source),
            "policy_version": row.policy_version,
        }))


@strawberry.type(description="A purpose's consent now (the newest answer), with every answer before it.")
class ConsentState:
    purpose: ConsentPurpose | None = personal(ConsentRow.purpose)
    granted: bool | None = personal(ConsentRow.granted)
    history: list[ConsentRecord]
    privacy: strawberry.Private[RowPrivacy | None] = None


@strawberry.type(description="Personal data that went to a recipient outside the shop.")
class DisclosureEntry:
    recipient: str | None = personal(DisclosureRow.recipient)
    purpose: str | None = personal(DisclosureRow.purpose)
    legal_basis: str | None = personal(DisclosureRow.legal_basis)
    categories: list[str] | None = personal(DisclosureRow.categories)
    fields: list[str] | None = personal(DisclosureRow.fields)
    disclosed_at: datetime | None = personal(DisclosureRow.disclosed_at)
    reference: str | None = personal(DisclosureRow.reference)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: DisclosureRow, guard: PrivacyGuard) -> DisclosureEntry:
        return cls(**guard.shape(cls, row.customer_id, {  # type: ignore[arg-type]
            "recipient": row.recipient, "purpose": row.purpose, "legal_basis": row.legal_basis,
            "categories": row.categories.split(",") if row.categories else [],
            "fields": row.fields.split(",") if row.fields else [], "disclosed_at": row.disclosed_at,
            "reference": row.reference,
        }))


@strawberry.input
class LegalDisclosureInput:
    customer_id: strawberry.ID
    recipient: str = strawberry.field(description="Who received the data, e.g. Polismyndigheten.")
    legal_reference: str = strawberry.field(description="The court order or the request under law, with its number.")
    categories: list[str] = strawberry.field(description="Data categories handed over, e.g. user.contact.email.")
