"""Every error leaves with a stable `extensions.code`; nothing unexpected leaves with its details.

Domain errors (`ShopError`) keep their message and details. Parse and validation errors get
their graphql-core message. A database fault (unreachable, busy, disk full, read-only: see
`storage/faults.py`) becomes SERVICE_UNAVAILABLE with a stable `reason`, so clients retry and operators
see which fault it was. Anything else becomes INTERNAL_SERVER_ERROR with the request id, and is
logged with its type and traceback only: exception messages may quote personal data.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from ...errors import ShopError
from ...storage.faults import REASONS, DatabaseFault, classify, log_fault

logger = logging.getLogger("shop_privacy.graphql")


def _request_id(context: Any) -> str | None:
    return getattr(context, "request_id", None)


def _client_error_code(error: GraphQLError) -> str:
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$") or "got invalid value" in message:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _request_state(context: Any) -> Any:
    """The request's ASGI state, where "this request's fault was logged" is remembered."""
    request = getattr(context, "request", None)
    return request.scope.setdefault("state", {}) if request is not None else None


def unavailable_error(fault: DatabaseFault, request_id: str | None) -> GraphQLError:
    return GraphQLError(
        "The shop's database is unavailable right now. Try again shortly.",
        extensions={"code": "SERVICE_UNAVAILABLE", "reason": fault.reason,
                    "retryAfterSeconds": fault.retry_after_seconds, "requestId": request_id},
    )


def is_infrastructure_fault(error: GraphQLError) -> bool:
    """A formatted error that says the database failed, not the request."""
    extensions = error.extensions or {}
    return extensions.get("code") == "SERVICE_UNAVAILABLE" and extensions.get("reason") in REASONS


def format_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, ShopError):
        return GraphQLError(original.message, error.nodes, error.source, error.positions, error.path,
                            extensions={"code": original.code, **original.details})
    if original is None or isinstance(original, GraphQLError):
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _client_error_code(error))
        return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path,
                            extensions=extensions)
    fault = classify(original)
    if fault is not None:
        unavailable = unavailable_error(fault, request_id)
        return GraphQLError(unavailable.message, error.nodes, error.source, error.positions, error.path,
                            extensions=unavailable.extensions)
    return GraphQLError("Internal server error.", error.nodes, error.source, error.positions, error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


def log_unexpected(errors: list[GraphQLError], context: Any) -> None:
    request_id = _request_id(context)
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, (ShopError, GraphQLError)):
            continue
        fault = classify(original)
        if fault is not None:
            # Not a bug: one line naming the fault is what an operator needs, and no traceback.
            log_fault(fault, request_id, _request_state(context))
            continue
        frames = "".join(traceback.format_tb(original.__traceback__))
        logger.error("unexpected %s request_id=%s path=%s\n%s", type(original).__name__, request_id,
                     ".".join(map(str, error.path or [])), frames)


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = _request_id(self.execution_context.context)
            result.errors = [format_error(error, request_id) for error in result.errors]
