"""Strawberry's ASGI view, set up safely: POST with JSON only, no batching, no-store, JSON errors.

An operation the database's failure left with nothing to show answers 503 with Retry-After, so load
balancers and clients back off; one with some data stays 200 (the errors say what is missing)."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from ..privacy.card_numbers import has_room_for_card_number
from ..schema import compiled
from ..schema.core.context import BaseContext, StorefrontContext
from ..schema.core.cookies import CookiePolicy
from ..schema.core.errors import format_error, is_infrastructure_fault
from ..schema.core.schema import ShopSchema
from ..services import Services
from .trusted_documents import DocumentRefused, TrustedDocuments

# A client's X-Request-ID is kept (logged, stored in the access log, echoed) only in this form, and only
# without room for a card number (P06): anything else is replaced, never stored or echoed.
_REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{8,64}")
_CONTEXT_KEY = "shop_privacy_context"
_REQUEST_ID_KEY = "shop_privacy_request_id"


def new_request_id() -> str:
    while True:  # about one in thirty random hex ids has 12 digits in a row: not even by chance
        candidate = uuid.uuid4().hex
        if not has_room_for_card_number(candidate):
            return candidate


def request_id_for(request: Request) -> str:
    """The client's X-Request-ID if well-formed, else a new one; the same for the whole request."""
    state = request.scope.setdefault("state", {})
    known: str | None = state.get(_REQUEST_ID_KEY)
    if known is None:
        offered = request.headers.get("x-request-id", "")
        well_formed = _REQUEST_ID.fullmatch(offered) is not None and not has_room_for_card_number(offered)
        known = state[_REQUEST_ID_KEY] = offered if well_formed else new_request_id()
    return known


def json_error(status: int, message: str, code: str, request_id: str, *, headers: dict[str, str] | None = None,
               **details: Any) -> Response:
    extensions = {"code": code, "requestId": request_id, **details}
    body = {"data": None, "errors": [{"message": message, "extensions": extensions}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", "X-Request-ID": request_id, **(headers or {})})


def _did_nothing(result: ExecutionResult) -> bool:
    """No data at all, or every top-level field null, and only because the database failed."""
    data = result.data
    empty = data is None or (isinstance(data, dict) and all(value is None for value in data.values()))
    return bool(result.errors) and empty and all(is_infrastructure_fault(error) for error in result.errors or [])


def _retry_after(errors: list[GraphQLError]) -> int:
    return max(int((error.extensions or {}).get("retryAfterSeconds", 5)) for error in errors)


class GraphQLView(GraphQL[BaseContext, None]):
    def __init__(self, schema: ShopSchema, services: Services, *, graphiql: bool,
                 context_class: type[BaseContext] = StorefrontContext, enforce_privacy: bool = True,
                 trusted_documents: TrustedDocuments | None = None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
        )
        self._services = services
        self._cookies = CookiePolicy.from_settings(services.settings)
        self._context_class = context_class
        self._enforce_privacy = enforce_privacy
        self._trusted = trusted_documents
        # A plan per trusted document whose shape the fast path supports, prepared once.
        self._plans: dict[str, compiled.Plan] = {}
        if trusted_documents is not None and services.settings.trusted_documents_compiled:
            for text in trusted_documents.documents.values():
                plan = compiled.compile_document(schema._schema, text, services.settings)
                if plan is not None:
                    self._plans[text] = plan

    def encode_json(self, data: object) -> bytes:
        # orjson writes UTF-8 bytes directly: about 1-2 ms less than json.dumps for an order page.
        return orjson.dumps(data)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if self._trusted is None or isinstance(data, list):
            return data
        if data.query is not None and "persistedQuery" not in (data.extensions or {}):
            self._trusted.check(data.query)
            return data
        # Sent by id: the small body is read again for `documentId`, which strawberry does not keep.
        body = json.loads(await request.get_body())
        return dataclasses.replace(data, query=self._trusted.resolve(body, data.query))

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any, context: Any,
                             root_value: Any, request_data: GraphQLRequestData) -> ExecutionResult:
        plan = self._plans.get(request_data.query or "")
        if plan is not None and request_data.operation_name in (None, plan.name):
            data = await compiled.run(plan, self.schema._schema, context, request_data.variables)
            if data is not None:
                return ExecutionResult(data=data, errors=None)
        return await super().execute_single(request, request_adapter, sub_response, context, root_value,
                                            request_data)

    async def get_context(self, request: Any, response: Any) -> BaseContext:
        request_id = request_id_for(request)
        # Every answer may carry personal data: no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Request-ID"] = request_id
        context = self._context_class(request=request, response=response, services=self._services,
                                      cookies=self._cookies, request_id=request_id,
                                      enforce_privacy=self._enforce_privacy)
        request.scope.setdefault("state", {})[_CONTEXT_KEY] = context
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        context: BaseContext | None = request.scope.get("state", {}).get(_CONTEXT_KEY)
        if result.errors and context is not None:
            # An error raised in an extension's hook skips ErrorCodes' formatting; format it here.
            result.errors = [error if (error.extensions or {}).get("code") else format_error(error, context.request_id)
                             for error in result.errors]
            if _did_nothing(result):
                context.response.status_code = 503
                context.response.headers["Retry-After"] = str(_retry_after(result.errors))
        return await super().process_result(request, result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            response = json_error(404, "Not found.", "NOT_FOUND", new_request_id())
            await response(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except DocumentRefused as error:
            response = json_error(400, error.message, error.code, request_id_for(request))
        except HTTPException as error:
            response = json_error(error.status_code, _http_message(error), "BAD_REQUEST", request_id_for(request))
        finally:
            context: BaseContext | None = scope.get("state", {}).pop(_CONTEXT_KEY, None)
            if context is not None:
                await context.close()
        await response(scope, receive, send)


def _http_message(error: HTTPException) -> str:
    if error.status_code == 405 or "GET" in error.reason:
        return "Send GraphQL operations as POST with a JSON body."
    if "batch" in error.reason.lower():
        return "Batched operations are not accepted; send one operation per request."
    return error.reason
