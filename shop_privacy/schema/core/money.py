"""Money in integer minor units plus an ISO currency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from ...pricing import Amounts

MoneyParts = tuple[int, str]  # minor units, currency
TaxedParts = tuple[int, int, str]  # net and VAT in minor units, currency

# Each field of Money and TaxedMoney from the parts of the amount, for a compiled plan's row mode
# (schema/compiled_rows.py), which writes a response straight from the parts. `TaxedMoney.of` builds the
# objects with the same arithmetic, spelt out (a dict of parts per object cost 1.7 µs more per amount,
# over 500 amounts on an order page); the differential test compares the two paths' answers.
MONEY_PARTS: dict[str, Callable[[int, str], Any]] = {
    "minor_units": lambda minor, _: minor,
    "currency": lambda _, currency: currency,
}
TAXED_MONEY_PARTS: dict[str, Callable[[int, int, str], MoneyParts]] = {
    "net": lambda net, _, currency: (net, currency),
    "vat": lambda _, vat, currency: (vat, currency),
    "gross": lambda net, vat, currency: (net + vat, currency),
}


@strawberry.type(description="An amount in minor units (öre for SEK) and its ISO 4217 currency.")
class Money:
    minor_units: int
    currency: str


@strawberry.type(description="An amount excluding VAT, the VAT on it, and the sum.")
class TaxedMoney:
    net: Money
    vat: Money
    gross: Money

    @classmethod
    def of(cls, net: int, vat: int, currency: str) -> TaxedMoney:
        return cls(net=Money(minor_units=net, currency=currency), vat=Money(minor_units=vat, currency=currency),
                   gross=Money(minor_units=net + vat, currency=currency))

    @classmethod
    def from_amounts(cls, amounts: Amounts, currency: str) -> TaxedMoney:
        return cls.of(amounts.net, amounts.vat, currency)


@dataclass(frozen=True, slots=True)
class Taxed:
    """A field's value function whose value is a TaxedMoney: `parts(*source)` gives its net, VAT and currency,
    which a compiled plan's row mode writes without building the objects."""

    parts: Callable[..., TaxedParts]

    def __call__(self, *source: Any) -> TaxedMoney:
        return TaxedMoney.of(*self.parts(*source))
