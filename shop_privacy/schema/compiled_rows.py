"""The compiled fast path's row mode: the viewer's own orders written straight from their rows.

For one's own data the privacy guard decides nothing (`PrivacyGuard.owns`: nothing withheld, no read
recorded), so the objects the general executor builds would only carry each row's values to the writer.
A plan in row mode skips them. Each object is a row source, a tuple, and each selected field's value is
`value(*source)`, from the same functions the objects are built with (for amounts, the same arithmetic):
- Order: (row, its line rows or None), `ORDER_VALUES` (`Order.from_row`);
- OrderLine: (row, currency), `LINE_VALUES` (`OrderLine.from_row`);
- TaxedMoney: (net, VAT, currency), `TAXED_MONEY_PARTS` (`TaxedMoney.of`); a field whose value function
  is `Taxed` gives this source instead of the object;
- Money: (minor units, currency), `MONEY_PARTS`.
Only the selected fields are worked out. A field without such a function (`contact`, `history`) means the
document has no row mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .core.money import MONEY_PARTS, TAXED_MONEY_PARTS, Taxed
from .orders.types import LINE_VALUES, ORDER_VALUES

RowValue = Callable[..., Any]

# The root fields whose fetch can give row sources (compiled.py's `_my_orders` and `_order`).
ROW_ROOTS = frozenset({"myOrders", "order"})


class LinesNotRead(Exception):  # noqa: N818 - not an error: the plan gives up and the executor answers
    """The lines were not read with the page (the general executor's dataloader would read them)."""


def _source(value: Any) -> RowValue:
    """A `Taxed` value function gives the TaxedMoney's row source; any other its value."""
    return value.parts if isinstance(value, Taxed) else value  # type: ignore[no-any-return]


def _order_value(name: str) -> RowValue | None:
    if name == "lines":
        def lines(row: Any, line_rows: Sequence[Any] | None) -> list[tuple[Any, str]]:
            if line_rows is None:
                raise LinesNotRead
            currency = row.currency
            return [(line, currency) for line in line_rows]
        return lines
    value = ORDER_VALUES.get(name)
    if value is None:
        return None
    of_row = _source(value)
    return lambda row, _line_rows: of_row(row)


def _line_value(name: str) -> RowValue | None:
    value = LINE_VALUES.get(name)
    return None if value is None else _source(value)


# GraphQL type name -> (Python field name -> the field's value from the row source, or None).
ROW_TYPES: dict[str, Callable[[str], RowValue | None]] = {
    "Order": _order_value,
    "OrderLine": _line_value,
    "TaxedMoney": TAXED_MONEY_PARTS.get,
    "Money": MONEY_PARTS.get,
}
