"""Money in integer minor units plus an ISO currency."""

from __future__ import annotations

import strawberry

from ...pricing import Amounts


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
