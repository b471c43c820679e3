"""What the operation asks for below a field: to read related rows with the page only when they are shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def _asks_for(selections: Iterable[Selection], name: str) -> bool:
    stack = list(selections)
    while stack:
        selection = stack.pop()
        if isinstance(selection, SelectedField) and selection.name == name:
            return True
        if isinstance(selection, SelectedField | FragmentSpread | InlineFragment):
            stack.extend(selection.selections)
    return False


def asks_for(info: Any, name: str) -> bool:
    """Whether a field called `name` is selected anywhere below the current field (directives such as
    @skip are not evaluated: at worst a few rows are read for nothing)."""
    return _asks_for(info.selected_fields, name)
