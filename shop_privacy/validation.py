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
from idna.core import valid_contextj
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from stdnum.exceptions import ValidationError as NumberInvalid
from stdnum.se import orgnr, personnummer

from .errors import BadUserInput
from .privacy.card_numbers import contains_card_number

# Controls (Cc), format characters (Cf: bidi overrides and isolates, zero-width spaces, BOM, soft
# hyphen), line and paragraph separators and lone surrogates. They are invisible or reorder what is
# shown, so a name or an address holding one reads differently on an invoice or a label than it was
# typed, or hides something (a "zero-width" split card number).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_JOINERS = frozenset("\u200c\u200d")


def _has_invisible(value: str) -> bool:
    """True if `value` holds a control or invisible formatting character. Zero-width (non-)joiners
    are allowed where a script needs them (after a virama, between joining letters: RFC 5892's
    CONTEXTJ rules, as for domain names), so Persian and Indic names can be written as they are."""
    for position, char in enumerate(value):
        if unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            continue
        if char in _JOINERS and valid_contextj(value, position):
            continue
        return True
    return False


def _free_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if _has_invisible(value):
        raise ValueError("must not contain control or invisible formatting characters (e.g. bidi overrides, "
                         "zero-width spaces)")
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
    """One spelling per address, so the unique index sees every copy: NFKC (full-width and other
    compatibility forms fold), the local part lower-cased, the domain in its IDNA (ASCII) form."""
    try:
        result = validate_email(unicodedata.normalize("NFKC", value).strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError("is not a valid e-mail address") from error
    normalized = f"{result.local_part.lower()}@{result.ascii_domain.lower()}"
    if len(normalized) > 254:
        raise ValueError("is too long")
    return normalized


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]


def normalise_email(value: str) -> str:
    """The spelling an address is stored under, for look-ups of what a caller typed (a login): an
    address that is not valid cannot have an account, and is only folded so it matches nothing else."""
    try:
        return _email(value)
    except ValueError:
        return unicodedata.normalize("NFKC", value).strip().lower()


def _postal_code(value: str) -> str:
    if _has_invisible(value):
        raise ValueError("must not contain control or invisible formatting characters")
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


def _org_number(value: str) -> str:
    """Swedish organisation number (or a sole trader's personal identity number): NNNNNN-NNNN,
    optionally with the '16' (or century) prefix; the last digit is a Luhn check digit.

    python-stdnum checks the length and the check digit only, so 000000-0000 passes it. What it
    leaves out is added here: a legal person's number has a group digit (the first) of 1–9 and a
    third digit of at least 2 (so it can never be read as a month); any other number must be a
    personal identity number with a real date of birth (a coordination number's day is 61–91)."""
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value))  # full-width digits fold
    if not re.fullmatch(r"(?:16|19|20)?[0-9]{10}", compact):
        raise ValueError("must be a Swedish organisation number, NNNNNN-NNNN")
    century, number = compact[:-10], compact[-10:]
    try:
        orgnr.validate(number)
    except NumberInvalid:
        raise ValueError("has a wrong check digit") from None
    legal_person = number[0] != "0" and int(number[2]) >= 2
    if century == "16" and not legal_person:
        raise ValueError("is not a valid organisation number")
    if not legal_person and not _is_personal_identity_number(century, number):
        raise ValueError("is not a valid organisation or personal identity number")
    return f"{number[:6]}-{number[6:]}"


def _is_personal_identity_number(century: str, number: str) -> bool:
    """Whether `number` (its check digit already checked) carries a real date of birth."""
    day = int(number[4:6])
    if day > 60:  # a coordination number (samordningsnummer): the day of birth plus 60
        number = f"{number[:4]}{day - 60:02d}{number[6:]}"
    try:
        personnummer.get_birth_date(f"{century}{number[:6]}-{number[6:]}")
    except NumberInvalid:
        return False
    return True


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

# An opaque key chosen by the client (the checkout's idempotency key): 8–64 of A–Z, a–z, 0–9, "_" and
# "-". Any digits are fine, a random UUID's too: it is stored only as a keyed hash (P06), never as given.
ClientKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{8,64}$")]


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
