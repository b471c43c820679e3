"""Storefronts on another origin: CORS for the listed origins only, and no cookie-carrying writes from
any other.

A listed origin (`SHOP_PRIVACY_CORS_ALLOWED_ORIGINS`) gets Starlette's CORSMiddleware: preflights answered,
credentials allowed, the origin echoed (never "*"). The session cookies are SameSite=Lax and, in
production, `__Host-` (host-only), so a browser sends them on such a request only when the storefront is
on the same site as the API (www.shop.se and api.shop.se); a storefront on another site logs in with
`tokenDelivery: BEARER` instead.

Any other origin gets no CORS header at all: its preflight is refused, so a browser never sends it the
JSON POST the GraphQL endpoints require (a non-JSON body is refused there too). And a write that
carries cookies and names a foreign origin is refused here, before any route, so cookie sessions do not
rest on the browser alone: a sibling host on the same site (its requests carry the Lax cookies) cannot
act as the customer either.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# What the storefront sends: the JSON body, a bearer token, the cart and visitor tokens of server-side
# storefronts, a request id to correlate logs.
ALLOWED_HEADERS = ("content-type", "authorization", "x-cart-token", "x-visitor-token", "x-request-id")
# What its scripts may read besides the body: the request id and the back-off of a 503 or 429.
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After")
ALLOWED_METHODS = ("GET", "POST")
PREFLIGHT_MAX_AGE_SECONDS = 600
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class CrossOriginPolicy:
    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...], own_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)
        # The shop's own public addresses (api_url, behind a proxy that rewrites Host): same origin, not CORS.
        self.own_origins = frozenset(own_origins)
        self.cors = CORSMiddleware(app, allow_origins=sorted(self.allowed_origins), allow_credentials=True,
                                   allow_methods=ALLOWED_METHODS, allow_headers=ALLOWED_HEADERS,
                                   expose_headers=EXPOSED_HEADERS, max_age=PREFLIGHT_MAX_AGE_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or self._same_origin(origin, headers):
            await self.app(scope, receive, send)
        elif origin in self.allowed_origins:
            await self.cors(scope, receive, send)
        elif _is_preflight(scope, headers) or (scope["method"] not in _SAFE_METHODS and "cookie" in headers):
            await _refuse(send)
        else:
            # A write without cookies (a one-click unsubscribe from a mail service) or a read: it acts as
            # nobody, and without CORS headers the page that sent it cannot read the answer.
            await self.app(scope, receive, send)

    def _same_origin(self, origin: str, headers: Headers) -> bool:
        if origin in self.own_origins:
            return True
        # A browser names its own page's origin and no script can change it: the host it names being the
        # one the request was sent to is what same-origin means here (the scheme is the proxy's business).
        host = headers.get("host")
        return host is not None and urlsplit(origin).netloc.lower() == host.lower()


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers


def origin_of(url: str) -> str:
    """The origin a browser would send for a page at `url`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


async def _refuse(send: Send) -> None:
    body = json.dumps({"data": None, "errors": [{
        "message": "This origin may not call the shop's API with the customer's cookies.",
        "extensions": {"code": "FORBIDDEN", "reason": "origin_not_allowed"},
    }]}).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"vary", b"Origin"),
    ]})
    await send({"type": "http.response.body", "body": body})
