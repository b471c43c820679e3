"""What a column holds, declared once beside it: the single source of truth for privacy."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Erasure(enum.StrEnum):
    """What erasure does to a value."""

    DELETE = "delete"  # the row goes
    NULL = "null"  # the value becomes NULL
    PLACEHOLDER = "placeholder"  # a typed placeholder replaces it (for NOT NULL columns)
    TRUNCATE = "truncate"  # reduced, e.g. an IP address to its network
    KEEP_FOR_LEGAL_REASON = "keep_for_legal_reason"  # kept until its retention ends


class Mask(enum.StrEnum):
    """How a value is shown to someone who may not see it in full."""

    NONE = "none"  # not shown at all
    EMAIL = "email"  # a***@e***.se
    PHONE = "phone"  # middle digits hidden
    ADDRESS_CITY = "address_city"  # hidden: the address is reduced to its city (street, postal code)
    KEEP = "keep"  # shown as it is where the address is reduced to its city (city, country)


@dataclass(frozen=True)
class PersonalData:
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    retention: str
    erasure: Erasure
    label_en: str
    label_sv: str
    mask: Mask = Mask.NONE
    source: str = "data_subject"  # where the value comes from
    # A named condition under which erasure keeps the value for a legal reason
    # (e.g. "invoice_order": an invoice's company details stay in the accounts).
    kept_if: str | None = None


@dataclass(frozen=True)
class NotPersonal:
    reason: str = ""


@dataclass(frozen=True)
class SubjectLink:
    """A reference to the data subject (a customer id): not a value to show, the key to find them.
    `is_key`: the column is the subject's own id (their own row)."""

    subject: str = "customer"
    is_key: bool = False


@dataclass(frozen=True)
class ParentLink:
    """A reference to a row that belongs to a data subject: this row then belongs to them too."""

    table: str


Declaration = PersonalData | NotPersonal | SubjectLink | ParentLink

NOT_PERSONAL = NotPersonal()


def personal(
    *,
    categories: str | tuple[str, ...],
    purposes: str | tuple[str, ...],
    retention: str,
    erasure: Erasure,
    en: str,
    sv: str,
    mask: Mask = Mask.NONE,
    source: str = "data_subject",
    kept_if: str | None = None,
) -> PersonalData:
    as_tuple = lambda value: (value,) if isinstance(value, str) else tuple(value)  # noqa: E731
    return PersonalData(
        as_tuple(categories), as_tuple(purposes), retention, erasure, en, sv, mask, source, kept_if
    )
