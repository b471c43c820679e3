"""Every log line written while a request is served knows the request's id (JSON log lines carry it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..logs import current_request_id
from .graphql_view import request_id_for


class RequestIdLogContext:
    """Fixes the request's id (the client's X-Request-ID if well-formed, else a new one: the one the answer
    and the access log get) before anything runs, and holds it in `current_request_id` while it does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = current_request_id.set(request_id_for(Request(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            current_request_id.reset(token)
