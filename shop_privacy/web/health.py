"""GET /health: liveness (the process answers; no database). GET /ready: readiness (see storage/readiness)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..storage.database import Database
from ..storage.migrate import PluginSchema
from ..storage.readiness import check_readiness

logger = logging.getLogger("shop_privacy.readiness")

_NO_STORE = {"Cache-Control": "no-store"}


def health_routes(db: Database, plugins: Sequence[PluginSchema] = ()) -> list[Route]:
    # Probes come every few seconds: the log says when readiness changes, not each time it is asked.
    last_reason: str | None = None

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def ready(_: Request) -> JSONResponse:
        nonlocal last_reason
        readiness = await check_readiness(db, plugins)
        if readiness.reason != last_reason:
            if readiness.ready:
                logger.info("ready again (was reason=%s)", last_reason)
            else:
                logger.warning("not ready (reason=%s)", readiness.reason)
            last_reason = readiness.reason
        if readiness.ready:
            return JSONResponse({"status": "ready"}, headers=_NO_STORE)
        return JSONResponse({"status": "not_ready", "reason": readiness.reason}, status_code=503,
                            headers={**_NO_STORE, "Retry-After": str(readiness.retry_after_seconds)})

    return [Route("/health", health, methods=["GET"]), Route("/ready", ready, methods=["GET"])]
