"""The app's start-up checks, run exactly once whoever starts it.

A server runs them through the app's lifespan. A host app that mounts the shop with Starlette's `Mount`
does not run a mounted app's lifespan; then the first request runs them, and until they pass every
request is answered 503, so the shop never serves on a schema it was not checked against.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("shop_privacy.startup")

STARTUP_FAILED = "startup_failed"
_RETRY_AFTER_SECONDS = 30


class Startup:
    def __init__(self, checks: Callable[[], Awaitable[None]]) -> None:
        self._checks = checks
        self._done = False
        self._lock = anyio.Lock()

    @property
    def done(self) -> bool:
        return self._done

    async def ensure(self) -> None:
        """Run the checks unless they have passed; raises what they raise (a failed check runs again next time,
        so an instance recovers once the operator has run the migrations)."""
        if self._done:
            return
        async with self._lock:
            if not self._done:
                await self._checks()
                self._done = True


# Liveness answers whenever the process does and never touches the database (see web/health.py).
_WITHOUT_CHECKS = frozenset({"/health"})


def _route_path(scope: Scope) -> str:
    """The path inside this app: under a host's `Mount`, `path` still carries the mount's prefix."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


class StartupFirst:
    """Pure ASGI middleware: no request is served before the start-up checks have passed."""

    def __init__(self, app: ASGIApp, startup: Startup) -> None:
        self.app = app
        self.startup = startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] in ("http", "websocket") and not self.startup.done
                and _route_path(scope) not in _WITHOUT_CHECKS):
            try:
                await self.startup.ensure()
            except Exception as error:  # noqa: BLE001 - any failed check means: do not serve
                # The checks' messages name tables and revisions, never personal data.
                logger.error("start-up checks failed, not serving: %s", error)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1013})  # try again later
                    return
                response = JSONResponse({"status": "not_ready", "reason": STARTUP_FAILED}, status_code=503,
                                        headers={"Retry-After": str(_RETRY_AFTER_SECONDS),
                                                 "Cache-Control": "no-store"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
