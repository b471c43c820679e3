"""Refuses, before anything executes, any operation whose string inputs cannot or must not be kept (P06).

Covers every string argument and input-object field, inline or in variables, so no resolver can
forget it:
- a NUL byte or a lone surrogate, in any input: neither can be stored (PostgreSQL text refuses NUL,
  UTF-8 has no surrogates), and they would otherwise fail deep inside a query, as an internal error;
- a payment card number, however written (see `privacy/card_numbers.py`), in any input but those
  kept only as a hash: a password (refusing one that looks like a card number would lock out whoever
  chose it before the detection grew) and the checkout's idempotency key (a random UUID holds a
  Luhn-valid run of digits often enough to fail real checkouts).
Server-issued values (tokens, ids, cursors) are scanned too: their formats cannot hold 12 digits in a
row by accident often enough to matter, and scanning them leaves no input unexamined.

It also makes `@purpose(use: …)` take a literal only (a validation rule): the purpose a staff
operation declares is read from the document, recorded in the access log, and has to be visible there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    ExecutionResult,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from ...privacy.card_numbers import contains_card_number

# Hashed (argon2id; the idempotency key by a keyed HMAC), never stored or logged as given.
SECRET_INPUTS = frozenset({"password", "currentPassword", "newPassword", "idempotencyKey"})
PURPOSE_DIRECTIVE = "purpose"


def _leaves(value: Any, name: str) -> Iterator[tuple[str, Any]]:
    """(input name, value) for every leaf of a variable's value, without recursion: a hostile value
    may be nested as deep as its body allows."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend((str(inner), child) for inner, child in item.items())
        elif isinstance(item, list):
            stack.extend((key, child) for child in item)
        else:
            yield key, item


def _unstorable(value: str) -> bool:
    """A NUL byte or a lone surrogate (JSON's "\\ud800" decodes to one)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _Collector:
    """Checks a document's inputs (`input_values`) with the variables sent, and says what it found."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.unstorable: list[str] = []
        self.card_numbers: list[str] = []

    def _check_string(self, name: str, value: str) -> None:
        if _unstorable(value):
            self.unstorable.append(name)
        elif name not in SECRET_INPUTS and contains_card_number(value):
            self.card_numbers.append(name)

    def check(self, name: str, node: ValueNode) -> None:
        if isinstance(node, StringValueNode):
            self._check_string(name, node.value)
        elif isinstance(node, VariableNode):
            for inner, value in _leaves(self.variables.get(node.name.value), name):
                if isinstance(value, str):
                    self._check_string(inner, value)
        elif isinstance(node, ListValueNode):
            for item in node.values:  # literals: the parser bounds their nesting
                self.check(name, item)
        # Object values: their fields are inputs of their own (`input_values` lists them).

    def errors(self) -> list[GraphQLError]:
        found: list[GraphQLError] = []
        if self.unstorable:
            found.append(GraphQLError(
                "Text inputs may not contain NUL bytes or unpaired surrogates.",
                extensions={"code": "BAD_USER_INPUT", "reason": "invalid_characters",
                            "fields": sorted(set(self.unstorable))},
            ))
        if self.card_numbers:
            found.append(GraphQLError(
                "Card numbers are never accepted: pay by card on the payment provider's page.",
                extensions={"code": "BAD_USER_INPUT", "reason": "card_number",
                            "fields": sorted(set(self.card_numbers))},
            ))
        return found


class _Inputs(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, ValueNode]] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.found.append((node.name.value, node.value))

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.found.append((node.name.value, node.value))


def input_values(document: Node) -> tuple[tuple[str, ValueNode], ...]:
    """Every argument and input-object field of `document` with its value, in the order the checks visit
    them: found once for a document checked with many sets of variables (a trusted document's plan)."""
    inputs = _Inputs()
    visit(document, inputs)
    return tuple(inputs.found)


def input_errors(inputs: tuple[tuple[str, ValueNode], ...], variables: Mapping[str, Any]) -> list[GraphQLError]:
    """The input guard's errors for a document's `input_values` and the variables sent with it: the same
    checks `RejectCardNumbers` runs on the whole document."""
    collector = _Collector(variables)
    for name, value in inputs:
        collector.check(name, value)
    return collector.errors()


class PurposeIsLiteral(ValidationRule):
    """`@purpose(use: $variable)` is refused: the purpose must be written in the operation."""

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if node.name.value != PURPOSE_DIRECTIVE or self.context.schema.get_directive(PURPOSE_DIRECTIVE) is None:
            return
        if any(isinstance(argument.value, VariableNode) for argument in node.arguments):
            self.report_error(GraphQLError(
                "Write the purpose into the operation, e.g. @purpose(use: CUSTOMER_SERVICE): it cannot be a "
                "variable.",
                node,
                extensions={"code": "BAD_USER_INPUT", "reason": "purpose_not_literal", "fields": ["use"]},
            ))


class RejectCardNumbers(SchemaExtension):
    """The input guard (named for its first duty, refusing card numbers)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, PurposeIsLiteral)
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            errors = input_errors(input_values(document), context.variables or {})
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield
