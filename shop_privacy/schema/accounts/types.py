"""GraphQL types of accounts. Personal fields are declared from their columns (`personal(...)`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry

from ...storage.tables import Customer as CustomerRow
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.personal import personal, personal_input


@strawberry.type
class CustomerAddress:
    street: str | None = personal(CustomerRow.address_street)
    postal_code: str | None = personal(CustomerRow.address_postal_code)
    city: str | None = personal(CustomerRow.address_city)
    country: str | None = personal(CustomerRow.address_country)
    privacy: strawberry.Private[RowPrivacy | None] = None


@strawberry.enum
class Language(enum.Enum):
    SV = "sv"
    EN = "en"


@strawberry.type(description="A customer's profile.")
class Customer:
    id: strawberry.ID
    email: str | None = personal(CustomerRow.email)
    first_name: str | None = personal(CustomerRow.first_name)
    last_name: str | None = personal(CustomerRow.last_name)
    phone: str | None = personal(CustomerRow.phone)
    company_name: str | None = personal(CustomerRow.company_name)
    organisation_number: str | None = personal(CustomerRow.company_org_number)
    address: CustomerAddress
    preferred_language: Language | None = personal(CustomerRow.preferred_language)
    created_at: datetime | None = personal(CustomerRow.created_at)
    last_login_at: datetime | None = personal(CustomerRow.last_login_at)
    processing_restricted: bool | None = strawberry.field(
        default=None, description="Staff only: the customer restricted the processing of their data (GDPR "
        "Art. 18), so it is kept but not used; only the LEGAL_CLAIMS purpose reads it. Shown whatever the purpose.")
    privacy: strawberry.Private[RowPrivacy | None] = None
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: CustomerRow, guard: PrivacyGuard) -> Customer:
        return cls(**guard.shape(cls, row.id, {  # type: ignore[arg-type]
            "id": encode_id("Customer", row.id),
            "row_id": row.id,
            "email": row.email,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "phone": row.phone,
            "company_name": row.company_name,
            "organisation_number": row.company_org_number,
            "address": CustomerAddress(**guard.shape(CustomerAddress, row.id, {
                "street": row.address_street, "postal_code": row.address_postal_code,
                "city": row.address_city, "country": row.address_country,
            })),
            "preferred_language": Language(row.preferred_language),
            "created_at": row.created_at,
            "last_login_at": row.last_login_at,
            "processing_restricted": guard.restricted(row.id),
        }))


@strawberry.enum(description="How a login hands over the session token.")
class TokenDelivery(enum.Enum):
    COOKIE = "COOKIE"  # HttpOnly cookie: for browsers
    BEARER = "BEARER"  # in the answer, for a server-side storefront to send as `Authorization: Bearer`


@strawberry.type
class LoginPayload:
    customer: Customer
    cart_merged: bool = strawberry.field(description="An anonymous cart was merged into the account's cart.")
    session_token: str | None = strawberry.field(description="Only with tokenDelivery: BEARER.")


@strawberry.type
class Accepted:
    accepted: bool
    message: str


@strawberry.type
class UpdateProfilePayload:
    customer: Customer
    email_change_pending: bool = strawberry.field(
        description="A confirmation link went to the new address; the change applies when it is opened."
    )


@strawberry.input
class RegisterInput:
    email: str = personal_input(CustomerRow.email)
    password: str = personal_input(CustomerRow.password_hash, description="Stored only as an argon2id hash.")
    first_name: str = personal_input(CustomerRow.first_name)
    last_name: str = personal_input(CustomerRow.last_name)
    preferred_language: Language = personal_input(CustomerRow.preferred_language, default=Language.SV)


@strawberry.input
class LoginInput:
    email: str = personal_input(CustomerRow.email)
    password: str = personal_input(CustomerRow.password_hash)
    token_delivery: TokenDelivery = TokenDelivery.COOKIE


@strawberry.input
class ChangePasswordInput:
    current_password: str = personal_input(CustomerRow.password_hash)
    new_password: str = personal_input(CustomerRow.password_hash)


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str = personal_input(CustomerRow.password_hash)


@strawberry.input
class AddressInput:
    street: str | None = personal_input(CustomerRow.address_street)
    postal_code: str | None = personal_input(CustomerRow.address_postal_code)
    city: str | None = personal_input(CustomerRow.address_city)
    country: str | None = personal_input(CustomerRow.address_country)


@strawberry.input(description="Only the fields given change; null clears an optional field.")
class UpdateProfileInput:
    first_name: str | None = personal_input(CustomerRow.first_name)
    last_name: str | None = personal_input(CustomerRow.last_name)
    phone: str | None = personal_input(CustomerRow.phone)
    company_name: str | None = personal_input(CustomerRow.company_name)
    organisation_number: str | None = personal_input(
        CustomerRow.company_org_number, description="Kept to fill in invoice payments."
    )
    address: AddressInput | None = strawberry.UNSET
    preferred_language: Language | None = personal_input(CustomerRow.preferred_language)
    email: str | None = personal_input(CustomerRow.email, description="Needs currentPassword.")
    current_password: str | None = personal_input(CustomerRow.password_hash)
