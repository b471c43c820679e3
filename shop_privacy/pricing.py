"""Money arithmetic in integer minor units: VAT per line, rounded half up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Amounts:
    net: int
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(self.net + other.net, self.vat + other.vat)


ZERO = Amounts(0, 0)


def vat_of(net_minor: int, rate_basis_points: int) -> int:
    """VAT on a net amount; 2500 basis points = 25 %. Half-up rounding to the minor unit."""
    return (net_minor * rate_basis_points + 5000) // 10000


def line_amounts(unit_net_minor: int, quantity: int, rate_basis_points: int) -> Amounts:
    net = unit_net_minor * quantity
    return Amounts(net, vat_of(net, rate_basis_points))
