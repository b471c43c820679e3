"""The compiled fast path's row mode: the viewer's own orders written straight from their rows.

For one's own data the privacy guard decides nothing (`PrivacyGuard.owns`: nothing withheld, no read
recorded), so the objects the general executor builds would only carry each row's values to the writer.
A plan in row mode skips them: each selected field's value comes from the same function `Order.from_row`
and `OrderLine.from_row` use (`ORDER_VALUES`, `LINE_VALUES`), and only the selected fields are worked out.
A field without such a function (`contact`, `history`) means the document has no row mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .orders.types import LINE_VALUES, ORDER_VALUES

Getter = Callable[[Any], Any]


class LinesNotRead(Exception):  # noqa: N818 - not an error: the plan gives up and the executor answers
    """The lines were not read with the page (the general executor's dataloader would read them)."""


@dataclass(frozen=True, slots=True)
class OwnOrder:
    """One of the viewer's orders as read, with its lines when they were read with it."""

    row: Any
    line_rows: Sequence[Any] | None


@dataclass(frozen=True, slots=True)
class OwnLine:
    row: Any
    currency: str


def _order_field(name: str) -> Getter | None:
    if name == "lines":
        def lines(order: OwnOrder) -> list[OwnLine]:
            if order.line_rows is None:
                raise LinesNotRead
            currency = order.row.currency
            return [OwnLine(row, currency) for row in order.line_rows]
        return lines
    value = ORDER_VALUES.get(name)
    return None if value is None else lambda order: value(order.row)


def _line_field(name: str) -> Getter | None:
    value = LINE_VALUES.get(name)
    return None if value is None else lambda line: value(line.row, line.currency)


# GraphQL type name -> (Python field name -> how its value comes from the row source, or None).
ROW_TYPES: dict[str, Callable[[str], Getter | None]] = {"Order": _order_field, "OrderLine": _line_field}
