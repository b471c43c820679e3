"""The reference "my account" pages (docs/account-pages.md): static HTML, CSS and ES modules under /account/,
one page shell for every page path (the modules pick the page from the path), no build step. Served in
development, and in production only when the shop asks (`SHOP_PRIVACY_ACCOUNT_PAGES`)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

PAGES_DIRECTORY = Path(__file__).parent / "account"
# The pages the shell knows, and the paths the account mails link to (`storefront_url` + path).
PAGE_PATHS = frozenset({
    "", "shop", "cart", "register", "verify-email", "login", "forgot-password", "reset-password", "profile",
    "confirm-email", "stop-email-change", "orders", "order", "my-data",
})
# Scripts, styles and requests only from this origin; nothing may frame the pages.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class _AccountStatic(StaticFiles):
    async def get_response(self, path: str, scope: dict) -> Response:  # type: ignore[override]
        response = await super().get_response(path, scope)  # type: ignore[arg-type]
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


def account_page_routes() -> list[BaseRoute]:
    shell = PAGES_DIRECTORY / "index.html"

    async def page(request: Request) -> Response:
        if request.path_params.get("page", "") not in PAGE_PATHS:
            return Response("Not found", status_code=404, media_type="text/plain")
        # no-store: pages reached by mailed links carry their token in the address.
        return FileResponse(shell, media_type="text/html; charset=utf-8", headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"})

    return [
        Mount("/account/static", app=_AccountStatic(directory=PAGES_DIRECTORY), name="account_static"),
        Route("/account/", page, methods=["GET"]),
        Route("/account/{page}", page, methods=["GET"]),
    ]
