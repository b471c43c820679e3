"""Log lines as text or as one JSON object per line (`SHOP_PRIVACY_LOG_FORMAT=json`), for log collectors.

A JSON line has `time` (UTC, ISO 8601), `level`, `logger`, `message` and `request_id`: the id of the HTTP
request the line was written for (the same as the answer's X-Request-ID and the access log's), or null
outside a request. What the lines say is unchanged: ids, never personal data. An exception's message,
which a text line carries, is left out (it may quote what a customer typed; its type and frames are kept);
the server's access line has no client address in either format (`web.middleware.RedactAccessLine`: an IP
address is personal data, P07).

`shop-privacy serve` and the other commands configure this from the settings; an app that mounts the
shop and owns its logging calls `configure_logging(settings)` itself, or puts `JsonFormatter` on its
own handlers.
"""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from .settings import Settings

# Set for the duration of each HTTP request by the app's middleware (web/log_context.py).
current_request_id: ContextVar[str | None] = ContextVar("shop_privacy_request_id", default=None)

# uvicorn's access line: client address, method, path with query, HTTP version, status.
_ACCESS_LOGGER = "uvicorn.access"
_ACCESS_ARGS = 5


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == _ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == _ACCESS_ARGS:
            _client, method, path, version, status = record.args  # the client's address is left out
            line["message"] = f"{method} {path} HTTP/{version} {status}"
            line.update(method=method, path=path, status=status)
        else:
            line["message"] = record.getMessage()
        line["request_id"] = getattr(record, "request_id", None) or current_request_id.get()
        if record.exc_info and record.exc_info[0] is not None:
            error_type, _error, frames = record.exc_info
            line["exception"] = error_type.__name__
            line["traceback"] = "".join(traceback.format_tb(frames))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """With the JSON format, every handler of the root logger writes JSON lines (one is added if there is
    none); with text, logging is left as the caller set it up."""
    if settings.log_format != "json":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's `log_config` for the format: uvicorn's own for text; for JSON, its server and access lines
    go through `JsonFormatter` too."""
    if settings.log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"default": handler, "access": {**handler, "stream": "ext://sys.stdout"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
