"""A database fault outside GraphQL execution (a plain route, the view's own set-up) answers 503 JSON.

Without this, Starlette would answer 500 and the server would log the exception's text, which for
SQLAlchemy quotes the statement's parameters. Anything that is not a database fault passes untouched.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..storage.faults import classify, log_fault
from .graphql_view import json_error, request_id_for


class DatabaseFaults:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            fault = classify(error)
            if fault is None:
                raise
            request_id = request_id_for(Request(scope))
            log_fault(fault, request_id, scope.setdefault("state", {}))
            if started:
                # A streamed answer (an export) was under way: it cannot become a 503 any more. Returning
                # leaves it incomplete, and the server closes the connection so the client sees a failure.
                return
            response = json_error(503, "The shop's database is unavailable right now. Try again shortly.",
                                  "SERVICE_UNAVAILABLE", request_id,
                                  headers={"Retry-After": str(fault.retry_after_seconds)},
                                  reason=fault.reason, retryAfterSeconds=fault.retry_after_seconds)
            await response(scope, receive, send)
