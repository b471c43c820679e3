"""GraphQL types only the staff schema has: staff members, the purpose directive, the access log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.directive import DirectiveLocation

from ...privacy.purposes import PURPOSES, StaffRole
from ...storage.tables import AccessLogEntry as AccessLogRow
from ...storage.tables import Customer as CustomerRow
from ...storage.tables import StaffUser as StaffRow
from ..accounts.types import AddressInput, Language, TokenDelivery
from ..core.connections import Connection
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.personal import personal, personal_input
from ..orders.types import OrderStatus


def purpose_directive() -> Any:
    """The `@purpose` directive with its `Purpose` enum made from the registry as it is when the staff schema
    is built: a plugin's purposes are registered by then (`build_services`), and an enum made when this
    module was imported would not have them."""
    purposes = strawberry.enum(  # type: ignore[call-overload]
        enum.Enum("Purpose", {key.upper(): key for key in PURPOSES}),  # type: ignore[misc]
        description="Purposes of processing: each staff request declares one with @purpose.",
    )

    def purpose(use: Any) -> None:
        return None

    purpose.__annotations__["use"] = purposes  # the enum itself: this module's annotations are strings
    return strawberry.directive(
        locations=[DirectiveLocation.QUERY, DirectiveLocation.MUTATION],
        description="The purpose this staff operation serves. Personal values are returned only where the staff "
        "member's role may act under it, the value is declared for it, and, for consent-based purposes, the "
        "subject has consented. Each read is recorded in the access log.",
    )(purpose)


StaffRoleEnum = strawberry.enum(StaffRole, name="StaffRole")


@strawberry.type
class StaffMember:
    id: strawberry.ID
    email: str | None = personal(StaffRow.email)
    display_name: str | None = personal(StaffRow.display_name)
    role: StaffRoleEnum | None = personal(StaffRow.role)  # type: ignore[valid-type]
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: StaffRow, guard: PrivacyGuard) -> StaffMember:
        return cls(**guard.shape(cls, row.id, {  # type: ignore[arg-type]
            "id": encode_id("StaffMember", row.id), "email": row.email, "display_name": row.display_name,
            "role": StaffRole(row.role),
        }))


@strawberry.type(description="One staff member's reads of one customer's data in one request.")
class AccessLogEntry:
    sequence: int
    staff_member_id: strawberry.ID
    subject_id: strawberry.ID | None = strawberry.field(
        description="The customer's id; the order's id for reads of an erased customer's retained order; "
        "null for a staff search that matched nobody."
    )
    request_id: str
    recorded_at: datetime | None = personal(AccessLogRow.recorded_at)
    purpose: str | None = personal(AccessLogRow.purpose)
    categories: list[str] | None = personal(AccessLogRow.categories)
    fields: list[str] | None = personal(AccessLogRow.fields)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: AccessLogRow, guard: PrivacyGuard, subject_type: str | None = "Customer") -> AccessLogEntry:
        """`subject_type`: what the subject column holds in these rows ("Customer", "Order" or nothing):
        the row itself does not say, so the caller that chose the rows does."""
        return cls(**guard.shape(cls, row.subject_id, {  # type: ignore[arg-type]
            "sequence": row.sequence, "staff_member_id": encode_id("StaffMember", row.staff_user_id),
            "subject_id": encode_id(subject_type, row.subject_id) if subject_type else None,
            "request_id": row.request_id,
            "recorded_at": row.recorded_at, "purpose": row.purpose,
            "categories": row.categories.split(",") if row.categories else [],
            "fields": row.fields.split(",") if row.fields else [],
        }))


AccessLogConnection = Connection[AccessLogEntry]


@strawberry.input
class OrderFilter:
    customer_id: strawberry.ID | None = None
    status: OrderStatus | None = None  # type: ignore[valid-type]
    placed_from: datetime | None = None
    placed_before: datetime | None = None


@strawberry.input
class StaffLoginInput:
    email: str = personal_input(StaffRow.email)
    password: str = personal_input(StaffRow.password_hash)
    token_delivery: TokenDelivery = TokenDelivery.COOKIE


@strawberry.input(description="Fields left out stay; null clears an optional field. The e-mail address only "
                              "the customer can change.")
class CorrectCustomerInput:
    first_name: str | None = personal_input(CustomerRow.first_name)
    last_name: str | None = personal_input(CustomerRow.last_name)
    phone: str | None = personal_input(CustomerRow.phone)
    company_name: str | None = personal_input(CustomerRow.company_name)
    organisation_number: str | None = personal_input(CustomerRow.company_org_number)
    address: AddressInput | None = strawberry.UNSET
    preferred_language: Language | None = personal_input(CustomerRow.preferred_language)


@strawberry.type
class StaffLoginPayload:
    staff_member: StaffMember
    session_token: str | None = strawberry.field(description="Only with tokenDelivery: BEARER.")
