"""GraphQL types of accounts."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from ...storage.tables import Customer as CustomerRow
from ..core.ids import encode_id


@strawberry.type
class Address:
    street: str | None
    postal_code: str | None
    city: str | None
    country: str | None


@strawberry.enum
class Language(enum.Enum):
    SV = "sv"
    EN = "en"


@strawberry.type(description="The logged-in customer's own profile.")
class Customer:
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    phone: str | None
    company_name: str | None
    organisation_number: str | None
    address: Address
    preferred_language: Language
    created_at: datetime

    @classmethod
    def from_row(cls, row: CustomerRow) -> Customer:
        return cls(
            id=encode_id("Customer", row.id),
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            phone=row.phone,
            company_name=row.company_name,
            organisation_number=row.company_org_number,
            address=Address(street=row.address_street, postal_code=row.address_postal_code,
                            city=row.address_city, country=row.address_country),
            preferred_language=Language(row.preferred_language),
            created_at=row.created_at,
        )


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
    email: str
    password: str
    first_name: str
    last_name: str
    preferred_language: Language = Language.SV


@strawberry.input
class LoginInput:
    email: str
    password: str
    token_delivery: TokenDelivery = TokenDelivery.COOKIE


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class AddressInput:
    street: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET


@strawberry.input(description="Only the fields given change; null clears an optional field.")
class UpdateProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    company_name: str | None = strawberry.UNSET
    organisation_number: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    preferred_language: Language | None = strawberry.UNSET
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Needs currentPassword.")
    current_password: str | None = strawberry.UNSET
