"""The compiled fast path for trusted documents: a plan prepared once per document, run without
graphql-core's per-field execution.

A plan exists for a storefront read whose one root field is in `ROOTS` (myOrders, order, me, products,
product, cart, myConsents) and whose
selections are plain fields of object types: no fragments, no directives, no fields with arguments below
the root, no resolvers but the ones listed here. Running it:
- coerces the variables and the root field's arguments with graphql-core's own functions, and runs the
  input guard's checks on them;
- fetches the rows the resolver reads (`my_order_rows`, `order_rows`) and builds the same objects
  through the same privacy guard (`PrivacyGuard.shape`, and so `privacy.access.decide`), so a change to
  the privacy decisions reaches both paths alike; for the viewer's own orders, where the guard decides
  nothing (`PrivacyGuard.owns`), it writes from the rows through the objects' own value functions instead
  (row mode, `compiled_rows.py`);
- writes the data by walking the plan over those objects, serialising leaves with the schema's own
  scalars and enums, and noting each personal value read exactly as `PersonalField.get_result` does.

Whatever the plan cannot answer exactly as the general executor would (an error of any kind, a withheld
value, a null in a non-null position, lines not read with the page) makes it give up (`None`) before
anything is written, and the request runs through the general executor instead: it never guesses.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    parse,
)
from graphql.error import GraphQLError
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.validation import specified_rules
from strawberry.schema.schema import validate_document

from ..resolvers import accounts, carts, catalogue, consents
from ..resolvers.orders import lines_of, my_order_rows, order_rows
from ..settings import Settings
from .compiled_rows import ROW_ROOTS, ROW_TYPES, LinesNotRead, RowValue
from .core.connections import connection_from_page
from .core.context import BaseContext
from .core.input_guard import PurposeIsLiteral, input_errors, input_values
from .core.personal import PersonalField, Withheld
from .core.schema import limit_rules
from .orders.types import Order

logger = logging.getLogger("shop_privacy.compiled")

_BACKREF = "strawberry-definition"
TYPENAME = "__typename"


Writer = Callable[[Any], Any]


class GiveUp(Exception):  # noqa: N818 - not an error: the general executor answers instead
    """This request is not one the plan answers exactly as the general executor would."""


# Root fields a plan can run: graphql name -> fetch(context, arguments, plan) giving the field's value, and
# whether it is in row sources (`compiled_rows`: the plan's row mode) rather than objects.
Fetch = Callable[[BaseContext, dict[str, Any], "Plan"], Awaitable[tuple[Any, bool]]]


async def _my_orders(context: Any, arguments: dict[str, Any], plan: Plan) -> tuple[Any, bool]:
    page, lines, guard = await my_order_rows(context, arguments.get("first", 20), arguments.get("after"),
                                             with_lines=plan.asks_for("lines"))
    in_rows = plan.rows_root is not None and all(guard.owns(row.customer_id) for row in page.items)

    def node(row: Any) -> Any:
        line_rows = lines_of(lines, row)
        return (row, line_rows) if in_rows else Order.from_row(row, guard, line_rows)
    return connection_from_page(page, node), in_rows


async def _order(context: Any, arguments: dict[str, Any], plan: Plan) -> tuple[Any, bool]:
    found = await order_rows(context, arguments["id"], with_lines=plan.asks_for("lines"))
    if found is None:
        return None, False
    row, lines = found
    guard = await context.guard()
    in_rows = plan.rows_root is not None and guard.owns(row.customer_id)
    return ((row, lines) if in_rows else Order.from_row(row, guard, lines)), in_rows


@dataclass(frozen=True)
class ContextOnly:
    """What a resolver that reads nothing of its `info` but the context is given by a plan; any other
    attribute raises, and the request then runs through the general executor."""

    context: Any


def _resolver_call(resolver: Callable[..., Awaitable[Any]]) -> Fetch:
    async def fetch(context: Any, arguments: dict[str, Any], plan: Plan) -> tuple[Any, bool]:
        return await resolver(ContextOnly(context), **arguments), False
    return fetch


ROOTS: dict[str, Fetch] = {
    "myOrders": _my_orders,
    "order": _order,
    # These resolvers take the context and their arguments (same names in GraphQL and Python), no more.
    "me": _resolver_call(accounts.me),
    "products": _resolver_call(catalogue.products),
    "product": _resolver_call(catalogue.product),
    "cart": _resolver_call(carts.cart),
    "myConsents": _resolver_call(consents.my_consents),
}


def _order_lines(order: Any) -> Any:
    if order.line_rows is None:  # not read with the page: the general executor's dataloader would read them
        raise GiveUp
    return order._lines(order.line_rows)


# Fields with a resolver that a plan may call: (type name, field name) -> resolve(object).
RESOLVED: dict[tuple[str, str], Callable[[Any], Any]] = {("Order", "lines"): _order_lines}


@dataclass(frozen=True)
class Selected:
    key: str  # the response key: the alias, or the name
    name: str
    field: GraphQLField | None  # None for __typename
    python_name: str | None
    personal: PersonalField | None
    resolve: Callable[[Any], Any] | None
    children: tuple[Selected, ...]
    write: Writer  # completes the field's value (unused for __typename)


@dataclass(frozen=True)
class Plan:
    operation: OperationDefinitionNode
    root_node: FieldNode
    root: Selected
    # The same selection written from row sources where the viewer's own orders are (compiled_rows); None
    # when a selected field has no value function there.
    rows_root: Selected | None
    fetch: Fetch
    field_names: frozenset[str]
    query_type_name: str
    # The response keys at the root in document order: a key for each __typename, None for the root field.
    root_keys: tuple[str | None, ...]
    inputs: tuple[tuple[str, ValueNode], ...]  # what the input guard checks (`input_values`)

    def asks_for(self, name: str) -> bool:
        return name in self.field_names

    @property
    def name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None


class Unsupported(Exception):  # noqa: N818 - a reason not to compile, never shown to a client
    pass


def compile_document(schema: GraphQLSchema, text: str, settings: Settings) -> Plan | None:
    """A plan for the document, or None when its shape is not supported (it then always runs generally).
    Only a document valid under every rule the general executor applies gets one."""
    try:
        document = parse(text, max_tokens=settings.max_tokens)
        rules = (*specified_rules, *limit_rules(settings), PurposeIsLiteral)
        if validate_document(schema, document, rules):
            return None  # invalid: the general executor answers with the errors
        return _plan(schema, document)
    except (Unsupported, GraphQLError, KeyError) as reason:
        logger.debug("trusted document not compiled: %s", type(reason).__name__)
        return None


def _plan(schema: GraphQLSchema, document: DocumentNode) -> Plan:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or len(document.definitions) != 1:
        raise Unsupported("one operation and nothing else")
    operation = operations[0]
    if operation.operation is not OperationType.QUERY or operation.directives:
        raise Unsupported("a query without directives")
    query_type = schema.query_type
    assert query_type is not None
    selections = _selections(operation.selection_set)
    roots = [node for node in selections if node.name.value != TYPENAME]
    if len(roots) != 1 or roots[0].name.value not in ROOTS:
        raise Unsupported("one supported root field (and __typename)")
    root_node = roots[0]
    names: set[str] = set()
    root = _selected(query_type, root_node, names, root=True)
    rows_root: Selected | None = None
    if root_node.name.value in ROW_ROOTS:
        with suppress(Unsupported):
            rows_root = _selected(query_type, root_node, set(), root=True, rows=True)
    root_keys = tuple(None if node is root_node else key for node, key in zip(selections, _keys(selections),
                                                                               strict=True))
    return Plan(operation, root_node, root, rows_root, ROOTS[root_node.name.value], frozenset(names),
                query_type.name, root_keys, input_values(operation))


def _keys(nodes: list[FieldNode]) -> list[str]:
    return [(node.alias or node.name).value for node in nodes]


def _selections(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    fields = []
    for selection in selection_set.selections if selection_set else ():
        if not isinstance(selection, FieldNode):
            raise Unsupported("fragments")
        if selection.directives:
            raise Unsupported("directives")
        fields.append(selection)
    if len(set(_keys(fields))) != len(fields):
        raise Unsupported("a response key selected twice (the executor merges them)")
    return fields


def _selected(parent: GraphQLObjectType, node: FieldNode, names: set[str], *, root: bool = False,
              rows: bool = False) -> Selected:
    name = node.name.value
    key = node.alias.value if node.alias else name
    names.add(name)
    if name == TYPENAME:
        return Selected(key, name, None, None, None, None, (), _unused)
    field = parent.fields[name]
    if node.arguments and not root:
        raise Unsupported("arguments below the root")
    definition = (field.extensions or {}).get(_BACKREF)
    resolve: Callable[[Any], Any] | None = None
    personal = definition if isinstance(definition, PersonalField) else None
    if not root and definition is not None and definition.base_resolver is not None:
        resolve = RESOLVED.get((parent.name, name)) or _plain_resolver(definition.base_resolver)
    named = _named(field.type)
    children: tuple[Selected, ...] = ()
    if isinstance(named, GraphQLObjectType):
        children = tuple(_selected(named, child, names, rows=rows) for child in _selections(node.selection_set))
    elif node.selection_set is not None or not hasattr(named, "serialize"):
        raise Unsupported("abstract types")
    return Selected(key, name, field, definition.python_name if definition else None, personal, resolve, children,
                    _writer(field.type, children, rows))


def _unused(value: Any) -> Any:
    raise AssertionError("__typename is written by its object")


def _plain_resolver(resolver: Any) -> Callable[[Any], Any]:
    """A resolver that needs nothing but its object (e.g. `Connection.nodes`), called as it is."""
    function = resolver.wrapped_func
    if inspect.iscoroutinefunction(function) or list(inspect.signature(function).parameters) != ["self"]:
        raise Unsupported("a resolver that needs more than its object")
    return function  # type: ignore[no-any-return]


def _named(graphql_type: Any) -> Any:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


# Running


async def run(plan: Plan, schema: GraphQLSchema, context: BaseContext, variables: Mapping[str, Any] | None,
              ) -> dict[str, Any] | None:
    """The response's `data`, or None when the general executor has to answer."""
    raw = dict(variables or {})
    if input_errors(plan.inputs, raw):  # the input guard's checks, on what the client sent
        return None
    coerced = get_variable_values(schema, plan.operation.variable_definitions or (), raw)
    if isinstance(coerced, list):
        return None  # invalid variables: the executor reports them
    root = plan.root
    assert root.field is not None
    try:
        arguments = get_argument_values(root.field, plan.root_node, coerced)
        value, in_rows = await plan.fetch(context, arguments, plan)
        completed = (plan.rows_root if in_rows and plan.rows_root is not None else root).write(value)
    except (GiveUp, LinesNotRead):
        return None
    except Exception:  # noqa: BLE001 - whatever failed, the general executor fails the same way and says so
        return None
    return {root.key if key is None else key: completed if key is None else plan.query_type_name
            for key in plan.root_keys}


def _writer(graphql_type: GraphQLOutputType, children: tuple[Selected, ...], rows: bool = False,
            nullable: bool = True) -> Writer:
    """A function completing a value of this type as graphql-core's executor does, made once per plan;
    `rows`: objects of the types in `ROW_TYPES` come as row sources. A null where the type forbids one
    gives up: the executor would null the parent and report an error."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _writer(graphql_type.of_type, children, rows, nullable=False)
    if isinstance(graphql_type, GraphQLList):
        item = _writer(graphql_type.of_type, children, rows)
        return lambda value: _null(nullable) if value is None else [item(each) for each in value]
    if isinstance(graphql_type, GraphQLObjectType):
        if rows and graphql_type.name in ROW_TYPES:
            return _row_writer(graphql_type.name, children, ROW_TYPES[graphql_type.name], nullable)
        return _object_writer(graphql_type.name, children, nullable)
    return _leaf_writer(graphql_type, nullable)


def _null(nullable: bool) -> None:
    if not nullable:
        raise GiveUp
    return None


def _leaf_writer(leaf: Any, nullable: bool) -> Writer:
    serialize = leaf.serialize

    def serialized(value: Any) -> Any:
        if value is None:
            return _null(nullable)
        result = serialize(value)
        if result is None:
            raise GiveUp
        return result
    if leaf is GraphQLString:  # what serialize_string returns at once for a str
        return lambda value: value if value.__class__ is str else serialized(value)
    if leaf is GraphQLInt:  # and serialize_int for an int in range
        return lambda value: value if value.__class__ is int and _INT_MIN <= value <= _INT_MAX else serialized(value)
    return serialized


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _object_writer(type_name: str, children: tuple[Selected, ...], nullable: bool) -> Writer:
    steps = tuple((s.key, s.field is None, s.resolve, s.python_name or s.name, s.personal, s.write)
                  for s in children)

    def write(source: Any) -> Any:
        if source is None:
            return _null(nullable)
        data: dict[str, Any] = {}
        for key, typename, resolve, attribute, personal, write_value in steps:
            if typename:
                data[key] = type_name
                continue
            if resolve is not None:
                value = resolve(source)
            else:
                value = getattr(source, attribute)
                if personal is not None:  # as PersonalField.get_result
                    if value.__class__ is Withheld:
                        raise GiveUp  # masked or denied: the general executor and the privacy extension answer
                    row = source.privacy
                    if row is not None:
                        row.fields_read.add(personal)
            data[key] = write_value(value)
        return data
    return write


def _row_writer(type_name: str, children: tuple[Selected, ...], value_of: Callable[[str], RowValue | None],
                nullable: bool) -> Writer:
    """Completes an object of `type_name` from its row source: the viewer's own data, so nothing is withheld
    or recorded (`PrivacyGuard.owns`), and only the selected fields are worked out."""
    steps: list[tuple[str, RowValue, Writer]] = []
    for selected in children:
        if selected.field is None:
            steps.append((selected.key, lambda *_: type_name, _same))
            continue
        value = value_of(selected.python_name or selected.name)
        if value is None:
            raise Unsupported(f"{type_name}.{selected.name} has no value from its row")
        steps.append((selected.key, value, selected.write))

    def write(source: Any) -> Any:
        if source is None:
            return _null(nullable)
        data: dict[str, Any] = {}
        for key, value, write_value in steps:  # a loop: a comprehension's frame costs more for a few fields
            data[key] = write_value(value(*source))
        return data
    return write


def _same(value: Any) -> Any:
    return value
