"""Minimisation on input (P02): a personal input that no purpose of the operation needs is refused,
decided by the declarations of the columns the input is stored in."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from ...errors import BadUserInput
from ...privacy.declarations import PersonalData
from ...storage.columns import PRIVACY_INFO_KEY


def reject_unneeded(value: Any, purposes: Collection[str], prefix: str = "") -> None:
    if not (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return
    for field in dataclasses.fields(value):
        given = getattr(value, field.name)
        if given is None or given is strawberry.UNSET:
            continue
        name = f"{prefix}{to_camel_case(field.name)}"
        declaration = field.metadata.get(PRIVACY_INFO_KEY)
        if isinstance(declaration, PersonalData) and not set(declaration.purposes) & set(purposes):
            raise BadUserInput(f"`{name}` is not needed for this operation, so it is not accepted.",
                               reason="not_needed", field=name)
        reject_unneeded(given, purposes, prefix=f"{name}.")
