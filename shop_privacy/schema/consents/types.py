"""GraphQL types of consent and of disclosures."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from ...privacy.purposes import PURPOSES
from ...storage.tables import Consent as ConsentRow
from ...storage.tables import Disclosure as DisclosureRow
from ...storage.tables import disclosures
from ...storage.types import utc_now
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.personal import personal

ConsentPurpose = strawberry.enum(  # type: ignore[call-overload]
    enum.Enum("ConsentPurpose", {key.upper(): key for key, p in PURPOSES.items() if p.needs_consent}),  # type: ignore[misc]
    description="Purposes that need the customer's consent.",
)


@strawberry.enum(description="Where the customer answered.")
class ConsentSource(enum.Enum):
    ACCOUNT_PAGE = "account_page"
    CHECKOUT = "checkout"
    COOKIE_BANNER = "cookie_banner"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    STAFF = "staff"
    OBJECTION = "objection"  # withdrawn by an objection to direct marketing (GDPR Art. 21)


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


# The storage's own kinds: a new kind of notice reaches the API without a second list to keep in step.
DisclosureKind = strawberry.enum(
    disclosures.DisclosureKind, name="DisclosureKind",
    description="What went to the recipient: data, or a notice about data it was given earlier.",
)


@strawberry.type(description="Personal data that went to a recipient outside the shop, or a notice about it.")
class DisclosureEntry:
    id: strawberry.ID
    kind: DisclosureKind | None = personal(DisclosureRow.kind)  # type: ignore[valid-type]
    recipient: str | None = personal(DisclosureRow.recipient)
    purpose: str | None = personal(DisclosureRow.purpose)
    legal_basis: str | None = personal(DisclosureRow.legal_basis)
    categories: list[str] | None = personal(DisclosureRow.categories)
    fields: list[str] | None = personal(DisclosureRow.fields)
    disclosed_at: datetime | None = personal(DisclosureRow.disclosed_at)
    reference: str | None = personal(DisclosureRow.reference)
    confidential_until: datetime | None = personal(
        DisclosureRow.confidential_until,
        description="An authority asked for secrecy: until then the customer is not shown this disclosure (P20).")
    confidential_reason: str | None = personal(DisclosureRow.confidential_reason)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @strawberry.field(description="Kept from the customer right now (confidential until a date still to come).")
    def confidential(self) -> bool:
        return self.confidential_until is not None and self.confidential_until > utc_now()

    @classmethod
    def from_row(cls, row: DisclosureRow, guard: PrivacyGuard) -> DisclosureEntry:
        return cls(**guard.shape(cls, row.customer_id, {  # type: ignore[arg-type]
            "id": encode_id("Disclosure", row.id), "kind": DisclosureKind(row.kind),
            "recipient": row.recipient, "purpose": row.purpose, "legal_basis": row.legal_basis,
            "categories": row.categories.split(",") if row.categories else [],
            "fields": row.fields.split(",") if row.fields else [], "disclosed_at": row.disclosed_at,
            "reference": row.reference, "confidential_until": row.confidential_until,
            "confidential_reason": row.confidential_reason,
        }))


@strawberry.input
class LegalDisclosureInput:
    customer_id: strawberry.ID
    recipient: str = strawberry.field(description="Who received the data, e.g. Polismyndigheten.")
    legal_reference: str = strawberry.field(description="The court order or the request under law, with its number.")
    categories: list[str] = strawberry.field(description="Data categories handed over, e.g. user.contact.email.")


@strawberry.input(description="An authority asked the shop to keep a disclosure required by law secret (P20).")
class ConfidentialDisclosureInput:
    disclosure_id: strawberry.ID
    reason: str = strawberry.field(description="Who asked for secrecy, and under which decision.")
    until: datetime = strawberry.field(description="The end of the secrecy; after it the customer is shown it.")
