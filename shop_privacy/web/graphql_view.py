"""Strawberry's ASGI view, set up safely: POST with JSON only, no batching, no-store, JSON errors."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from ..schema.core.context import BaseContext, StorefrontContext
from ..schema.core.cookies import CookiePolicy
from ..schema.core.schema import ShopSchema
from ..services import Services

_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")
_CONTEXT_KEY = "shop_privacy_context"


def request_id_for(request: Request) -> str:
    offered = request.headers.get("x-request-id", "")
    return offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex


def json_error(status: int, message: str, code: str, request_id: str, **details: Any) -> Response:
    extensions = {"code": code, "requestId": request_id, **details}
    body = {"data": None, "errors": [{"message": message, "extensions": extensions}]}
    return Response(json.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", "X-Request-ID": request_id})


class GraphQLView(GraphQL[BaseContext, None]):
    def __init__(self, schema: ShopSchema, services: Services, *, graphiql: bool,
                 context_class: type[BaseContext] = StorefrontContext, enforce_privacy: bool = True) -> None:
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            response = json_error(404, "Not found.", "NOT_FOUND", uuid.uuid4().hex)
            await response(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
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
