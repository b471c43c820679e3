"""The privacy extension: the request's purpose in, withheld values and recorded reads out.

Before execution it reads the operation's `@purpose(use: …)` directive (staff requests). After it,
each withheld value (a `PrivacyDenied` error) becomes either its masked form in the data or null plus
a PRIVACY_DENIED error, and every masked or denied path is listed in `extensions.privacy`. Last, the
staff member's reads are appended to the access log; if that fails, nothing read is shown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode
from graphql.execution.values import get_directive_values
from strawberry.extensions import SchemaExtension

from ...storage.faults import classify, log_fault
from .errors import unavailable_error
from .personal import PrivacyDenied

logger = logging.getLogger("shop_privacy.privacy")


def _put(data: Any, path: list[str | int], value: object) -> None:
    node = data
    for key in path[:-1]:
        node = node[key] if node is not None else None
    if node is not None:
        node[path[-1]] = value


class PrivacyExtension(SchemaExtension):
    def __init__(self) -> None:
        self.entries: list[dict[str, object]] = []

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        directive = self.execution_context.schema._schema.get_directive("purpose")
        if directive is not None and document is not None and hasattr(context, "purpose"):
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and (
                    self.execution_context.operation_name in (None, getattr(definition.name, "value", None))
                ):
                    variables: Any = self.execution_context.variables
                    values = get_directive_values(directive, definition, variables)
                    if values:
                        context.purpose = getattr(values["use"], "value", values["use"])
                    break
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        recorder = context.access_recorder() if hasattr(context, "access_recorder") else None
        if result is not None and result.errors:
            kept: list[GraphQLError] = []
            for error in result.errors:
                denied = error.original_error
                if not isinstance(denied, PrivacyDenied):
                    kept.append(error)
                    continue
                withheld = denied.withheld
                self.entries.append({"path": list(error.path or []), "reason": withheld.reason.value,
                                     "masked": withheld.masked})
                if withheld.masked:
                    _put(result.data, list(error.path or []), withheld.value)
                    if recorder is not None and withheld.subject_id is not None and withheld.value is not None:
                        recorder.read(withheld.subject_id, denied.field, masked=True)
                else:
                    kept.append(error)
            result.errors = kept or None
        if recorder is not None and result is not None:
            reads = recorder.reads()
            try:
                await context.services.access_log.append(reads)
            except Exception as error:  # noqa: BLE001 - whatever failed, unrecorded reads are not shown
                result.data = None
                fault = classify(error)
                if fault is not None:  # the database failed, not the code: the client may retry
                    log_fault(fault, context.request_id, context.request.scope.setdefault("state", {}))
                    result.errors = [unavailable_error(fault, context.request_id)]
                else:
                    logger.error("access log append failed request_id=%s error=%s", context.request_id,
                                 type(error).__name__)
                    result.errors = [GraphQLError(
                        "The read could not be recorded in the access log, so nothing is shown.",
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": context.request_id},
                    )]
                self.entries = []

    def get_results(self) -> dict[str, Any]:
        return {"privacy": self.entries} if self.entries else {}
