"""Validated inputs of the account operations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from ..validation import (
    City,
    Command,
    CompanyName,
    CountryCode,
    Email,
    OrgNumber,
    PersonName,
    Phone,
    PostalCode,
    StreetAddress,
)

# What each operation's personal inputs may serve (minimisation on input, P02).
ACCOUNT_PURPOSES = frozenset({"account"})
# The profile also keeps the company's details used to fill in an invoice payment.
PROFILE_PURPOSES = frozenset({"account", "order_fulfilment", "payment", "invoicing", "customer_service"})

# Long enough for any acceptable password; the password rules say what is acceptable.
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Language = Literal["sv", "en"]


class Register(Command):
    email: Email
    password: Password
    first_name: PersonName
    last_name: PersonName
    preferred_language: Language = "sv"


class Login(Command):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Password


class ChangePassword(Command):
    current_password: Password
    new_password: Password


class ResetPassword(Command):
    token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    new_password: Password


class AddressUpdate(Command):
    street: StreetAddress | None = None
    postal_code: PostalCode | None = None
    city: City | None = None
    country: CountryCode | None = None


class ProfileUpdate(Command):
    """Only the fields given are changed; a given null clears an optional field."""

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    phone: Phone | None = None
    company_name: CompanyName | None = None
    organisation_number: OrgNumber | None = None
    address: AddressUpdate | None = None
    preferred_language: Language | None = None
    email: Email | None = None
    current_password: Password | None = None

    @model_validator(mode="after")
    def _rules(self) -> ProfileUpdate:
        for required in ("first_name", "last_name", "preferred_language", "email"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        if self.email is not None and not self.current_password:
            raise ValueError("changing the e-mail address needs your current password")
        return self
