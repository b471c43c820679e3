"""Turning strawberry inputs into the plain data the services validate."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import strawberry

from ..errors import NotFound
from ..schema.core.ids import decode_id


def input_data(value: Any) -> Any:
    """A strawberry input as a dict of snake_case fields; fields left out (UNSET) are dropped."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: input_data(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if getattr(value, field.name) is not strawberry.UNSET
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [input_data(item) for item in value]
    return value


def required_id(type_name: str, value: str, what: str) -> Any:
    """The UUID in an opaque id of `type_name`, or NOT_FOUND."""
    decoded = decode_id(type_name, value)
    if decoded is None:
        raise NotFound(f"No such {what}.")
    return decoded
