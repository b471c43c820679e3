"""Personal fields: the `@personal` directive and enforcement, both derived from the column declarations.

A field made with `personal(Row.column, …)` prints `@personal(…)` in the SDL and is resolved by
`PersonalField.get_result`, which stays on strawberry's fast path for plain attributes: the value was
already allowed, masked or withheld when the object was built (see `guard.PrivacyGuard.shape`), so
reading it costs one type check, plus recording the read when a staff member is asking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLNonNull
from sqlalchemy import Column
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from ...errors import ShopError
from ...privacy.access import Reason, merged
from ...privacy.declarations import Mask, PersonalData
from ...privacy.purposes import PURPOSES
from ...storage.columns import PRIVACY_INFO_KEY


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.INPUT_FIELD_DEFINITION, Location.ARGUMENT_DEFINITION],
    description="Personal data, as declared beside its storage column: its categories, the purposes it may "
    "be used for and their legal bases, how long it is kept, and whether a masked form may be shown "
    "where the full value may not.",
)
class Personal:
    categories: list[str]
    purposes: list[str]
    legal_bases: list[str]
    retention: str
    maskable: bool


def _column(attribute: Any) -> Column[Any]:
    return attribute.property.columns[0]  # type: ignore[no-any-return]


def declarations_of(columns: Iterable[Any]) -> tuple[tuple[str, ...], PersonalData]:
    """("table.column", …) and the (merged) declaration of the given model attributes."""
    names, declarations = [], []
    for attribute in columns:
        column = _column(attribute)
        declaration = column.info.get(PRIVACY_INFO_KEY)
        if not isinstance(declaration, PersonalData):
            raise TypeError(f"{column.table.name}.{column.name} is not declared personal")
        names.append(f"{column.table.name}.{column.name}")
        declarations.append(declaration)
    return tuple(names), merged(declarations)


def directive_for(declaration: PersonalData) -> Personal:
    bases = list(dict.fromkeys(str(PURPOSES[p].legal_basis) for p in declaration.purposes if p in PURPOSES))
    return Personal(categories=list(declaration.categories), purposes=list(declaration.purposes),
                    legal_bases=bases, retention=declaration.retention,
                    maskable=declaration.mask is not Mask.NONE)


@dataclass(frozen=True, slots=True)
class Withheld:
    """What a field holds when its value may not be read: masked, or not at all."""

    reason: Reason
    masked: bool
    value: object
    subject_id: uuid.UUID | None


class PrivacyDenied(ShopError):
    code = "PRIVACY_DENIED"

    def __init__(self, withheld: Withheld, field: PersonalField) -> None:
        super().__init__("This value may not be read for the declared purpose.", reason=withheld.reason.value)
        self.withheld = withheld
        self.field = field


class PersonalField(StrawberryField):
    columns: tuple[str, ...]
    declaration: PersonalData

    def get_result(self, source: Any, info: Any, args: list[Any], kwargs: Any) -> Any:
        value = getattr(source, self.python_name)
        if value.__class__ is Withheld:
            raise PrivacyDenied(value, self)
        row = source.privacy
        if row is not None:
            row.fields_read.add(self)
        return value


def personal_directive(*columns: Any) -> Personal:
    """The directive alone, for an argument that carries personal data."""
    return directive_for(declarations_of(columns)[1])


def personal(*columns: Any, description: str | None = None, name: str | None = None) -> Any:
    """An output field exposing these declared columns."""
    names, declaration = declarations_of(columns)
    field = PersonalField(graphql_name=name, description=description, directives=[directive_for(declaration)])
    field.columns, field.declaration = names, declaration
    return field


def personal_input(*columns: Any, default: Any = strawberry.UNSET, description: str | None = None) -> Any:
    """An input field whose value is stored in these declared columns."""
    names, declaration = declarations_of(columns)
    return strawberry.field(default=default, description=description, directives=[directive_for(declaration)],
                            metadata={PRIVACY_INFO_KEY: declaration, "columns": names})


@cache
def personal_fields(cls: type) -> tuple[tuple[str, PersonalData], ...]:
    """(python name, declaration) of every personal field of a strawberry type."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    return tuple((f.python_name, f.declaration) for f in definition.fields if isinstance(f, PersonalField))


class PrivacySchemaError(Exception):
    pass


def check_schema(schema: strawberry.Schema) -> None:
    """At build: a withheld value is null, so a personal field must be nullable (else its parent would
    be nulled with it), and its type must carry the row's privacy context in `privacy`."""
    problems: list[str] = []
    for type_name, graphql_type in schema._schema.type_map.items():
        for field_name, graphql_field in (getattr(graphql_type, "fields", None) or {}).items():
            field = (graphql_field.extensions or {}).get(_BACKREF)
            if not isinstance(field, PersonalField):
                continue
            if isinstance(graphql_field.type, GraphQLNonNull):
                problems.append(f"{type_name}.{field_name} is non-null: a withheld value would null its parent")
            origin = graphql_type.extensions[_BACKREF].origin
            if "privacy" not in getattr(origin, "__dataclass_fields__", {}):
                problems.append(f"{type_name} has personal fields but no `privacy` attribute")
    if problems:
        raise PrivacySchemaError("; ".join(sorted(set(problems))))


_BACKREF = "strawberry-definition"
