"""Every error leaves with a stable `extensions.code`; nothing unexpected leaves with its details.

Domain errors (`ShopError`) keep their message and details. Parse and validation errors get
their graphql-core message. Anything else becomes INTERNAL_SERVER_ERROR with the request id, and is
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
    return GraphQLError("Internal server error.", error.nodes, error.source, error.positions, error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


def log_unexpected(errors: list[GraphQLError], request_id: str | None) -> None:
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, (ShopError, GraphQLError)):
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
