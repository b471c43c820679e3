"""ASGI middleware: limits on what a request may be before anything reads it, and security headers on
every response. Also the filter that keeps tokens out of the server's access log."""

from __future__ import annotations

import json
import logging
import re
from itertools import accumulate
from urllib.parse import unquote_to_bytes

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# All of a request's header names and values together. A browser keeps each cookie under 4 KiB, and
# uvicorn's h11 server refuses a request head much over 16 KiB: a larger one is an attack or a fault.
MAX_HEADER_BYTES = 16 * 1024
# Levels of arrays and objects in a JSON body or in JSON in the query string. The shop's own inputs
# use fewer than ten; Python's JSON decoder recurses per level and fails (a 500) at about a thousand.
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
# "[" and "{" become +1, "]" and "}" -1 (0xff as a signed byte); everything else is dropped.
_NESTING = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in `data`, brackets inside strings left out; without decoding,
    so a hostile document costs one linear scan."""
    brackets = _JSON_STRING.sub(b"", data).translate(_NESTING, _NOT_BRACKETS)
    return max(accumulate(memoryview(brackets).cast("b")), default=0)


class BodySizeLimit:
    """Refuses, before the request is read into memory or parsed: headers over `max_header_bytes`
    (431), a body over `max_bytes` (413), and JSON nested deeper than `max_json_depth` in a JSON body
    or the query string (400). Each answer is JSON with the code BAD_REQUEST, never a 500."""

    def __init__(self, app: ASGIApp, max_bytes: int, *, max_header_bytes: int = MAX_HEADER_BYTES,
                 max_json_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if sum(len(name) + len(value) for name, value in headers) > self.max_header_bytes:
            await _refuse(send, 431, "The request's headers are too large.")
            return
        if json_depth(unquote_to_bytes(scope.get("query_string", b""))) > self.max_json_depth:
            await _refuse(send, 400, f"JSON may nest at most {self.max_json_depth} levels deep.")
            return
        declared = dict(headers).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send)
            return
        if b"json" in dict(headers).get(b"content-type", b"").lower():
            await self._json_body(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _too_large(send)

    async def _json_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reads the whole body (at most `max_bytes`), checks its nesting, then hands it on."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > self.max_json_depth:
            await _refuse(send, 400, f"JSON may nest at most {self.max_json_depth} levels deep.")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: a disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await _refuse(send, 413, "The request is too large.")


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"data": None, "errors": [
        {"message": message, "extensions": {"code": "BAD_REQUEST"}}
    ]}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The access log line the server writes: uvicorn's "uvicorn.access" logger, with the client's address and
# the request's path and query string. An IP address is personal data (P07; orders keep theirs under a
# retention rule, a log file has none). Export and unsubscribe links carry their token in the path, the
# storefront's mail links (reset, verification, e-mail change) as ?token=: none of them may reach a log file.
ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
_ACCESS_ARGS = 5  # client, method, path with query, HTTP version, status
_TOKEN_SEGMENT = re.compile(r"(/(?:export|unsubscribe)/)[^/?#\s\"]+")
_TOKEN_QUERY = re.compile(r"([?&][^=&#\s\"]*token[^=&#\s\"]*=)[^&#\s\"]*", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    """`text` with token path segments and token query values replaced by [redacted]."""
    if "/" not in text and "token" not in text.lower():
        return text
    return _TOKEN_QUERY.sub(rf"\g<1>{REDACTED}", _TOKEN_SEGMENT.sub(rf"\g<1>{REDACTED}", text))


class RedactAccessLine(logging.Filter):
    """Rewrites a log record's arguments (uvicorn's access line: client, method, path with query, HTTP
    version, status) or, without arguments, its message, so no client address and no link token is
    written: the address becomes "-", as in a common log line whose client is unknown."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            args = tuple(redact_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
            if len(args) == _ACCESS_ARGS:
                args = ("-", *args[1:])
            record.args = args
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact_tokens(record.msg)
        return True


def redact_access_log(logger_name: str = ACCESS_LOGGER) -> None:
    """Installs `RedactAccessLine` on the access logger, once. Filters on a logger survive uvicorn's own
    logging set-up (dictConfig replaces handlers, not filters), so installing it before the server
    starts is enough."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, RedactAccessLine) for existing in logger.filters):
        logger.addFilter(RedactAccessLine())
