"""Validated input types shared by the services (pydantic), and turning their errors into BAD_USER_INPUT.

Error messages never echo the submitted value: it may be personal data.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, TypeVar

import idna
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from .errors import BadUserInput
from .privacy.card_numbers import contains_card_number

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _free_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if contains_card_number(value):
        raise ValueError("looks like a payment card number; card numbers are never accepted here")
    return value


def _text(max_length: int) -> Any:
    def check(value: str) -> str:
        value = _free_text(value)
        if not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value

    # The first bound is a cheap guard before any work is done on the value.
    return Annotated[str, StringConstraints(max_length=max_length * 4), AfterValidator(check)]


PersonName = _text(100)
CompanyName = _text(200)
StreetAddress = _text(200)
City = _text(100)


def _email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError("is not a valid e-mail address") from error
    normalized = result.normalized.lower()
    if len(normalized) > 254:
        raise ValueError("is too long")
    return normalized


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]


def _postal_code(value: str) -> str:
    compact = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[A-Za-z0-9\-]{2,10}", compact):
        raise ValueError("is not a valid postal code")
    return compact.upper()


PostalCode = Annotated[str, StringConstraints(max_length=16), AfterValidator(_postal_code)]


def _country(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("must be a two-letter ISO 3166 country code")
    return value


CountryCode = Annotated[str, StringConstraints(max_length=2), AfterValidator(_country)]


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "SE")
    except phonenumbers.NumberParseException as error:
        raise ValueError("is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]


def is_swedish_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164, "SE")
    return number.country_code == 46 and phonenumbers.number_type(number) in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }


def _swedish_mobile(value: str) -> str:
    e164 = _phone(value)
    if not is_swedish_mobile(e164):
        raise ValueError("must be a Swedish mobile number (Swish)")
    return e164


SwedishMobile = Annotated[str, StringConstraints(max_length=32), AfterValidator(_swedish_mobile)]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _org_number(value: str) -> str:
    """Swedish organisation number (or a sole trader's personal identity number): NNNNNN-NNNN,
    optionally with the '16' (or century) prefix; the last digit is a Luhn check digit."""
    compact = re.sub(r"[\s\-]", "", value)
    if re.fullmatch(r"(16|19|20)\d{10}", compact):
        compact = compact[2:]
    if not re.fullmatch(r"\d{10}", compact):
        raise ValueError("must be a Swedish organisation number, NNNNNN-NNNN")
    if not _luhn_ok(compact):
        raise ValueError("has a wrong check digit")
    return f"{compact[:6]}-{compact[6:]}"


OrgNumber = Annotated[str, StringConstraints(max_length=16), AfterValidator(_org_number)]


def _domain_name(value: str) -> str:
    value = value.strip().rstrip(".").lower()
    try:
        ascii_name = idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError("is not a valid domain name") from error
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(
        re.fullmatch(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?", label) for label in labels
    ):
        raise ValueError("is not a valid domain name")
    return value


DomainName = Annotated[str, StringConstraints(max_length=253), AfterValidator(_domain_name)]


class Command(BaseModel):
    """Base for service inputs: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Validate `data`, or raise BAD_USER_INPUT listing each field and why (never the value)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(part) for part in issue["loc"]) or "input", "message": _message(issue)}
            for issue in error.errors(include_input=False, include_url=False, include_context=False)
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise BadUserInput(f"Invalid input: {summary}", fields=fields) from None


def _message(issue: Any) -> str:
    message = str(issue["msg"])
    return message.removeprefix("Value error, ")
