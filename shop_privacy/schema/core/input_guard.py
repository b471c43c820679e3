"""Rejects, before anything executes, any operation whose text inputs hold a payment card number (P06).

Covers every string argument and input-object field, inline or in variables, so no resolver can
forget it. Secrets and opaque tokens are exempt: they are never stored as given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    ExecutionResult,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from ...privacy.card_numbers import contains_card_number

EXEMPT_INPUTS = frozenset({
    "password", "currentPassword", "newPassword",  # hashed, never stored as given
    "token", "idempotencyKey", "after", "before",  # opaque
    "id", "lineId", "productId",  # opaque ids
})


def _values(value: Any) -> Iterator[tuple[str | None, Any]]:
    """(input name, value) for every leaf of a variable's value."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in EXEMPT_INPUTS:
                for name, leaf in _values(item):
                    yield name or key, leaf
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    else:
        yield None, value


class _Collector(Visitor):
    def __init__(self, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.variables = variables
        self.offending: list[str] = []

    def _check(self, name: str, node: ValueNode) -> None:
        if name in EXEMPT_INPUTS:
            return
        if isinstance(node, StringValueNode) and contains_card_number(node.value):
            self.offending.append(name)
        elif isinstance(node, VariableNode):
            for inner, value in _values(self.variables.get(node.name.value)):
                if isinstance(value, str) and contains_card_number(value):
                    self.offending.append(inner or name)
        elif isinstance(node, ListValueNode):
            for item in node.values:
                self._check(name, item)
        # Object values: their fields are visited as ObjectFieldNodes.

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._check(node.name.value, node.value)

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self._check(node.name.value, node.value)


class RejectCardNumbers(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            collector = _Collector(context.variables or {})
            visit(document, collector)
            if collector.offending:
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    "Card numbers are never accepted: pay by card on the payment provider's page.",
                    extensions={"code": "BAD_USER_INPUT", "reason": "card_number",
                                "fields": sorted(set(collector.offending))},
                )])
        yield
