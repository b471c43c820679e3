"""GET shows a page asking to confirm; POST withdraws the consent (one click, RFC 8058's
List-Unsubscribe-Post). Repeating it is harmless; a forged or expired link changes nothing."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ..privacy.purposes import PURPOSES
from ..services import Services
from ..tokens import InvalidToken

_PAGE = """<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def unsubscribe_routes(services: Services) -> list[Route]:
    links = services.unsubscribe_links

    def invalid() -> HTMLResponse:
        return _page("Länken fungerar inte / The link does not work",
                     "<p>Länken är ogiltig eller för gammal. Inget har ändrats. Du kan avsluta utskicken under "
                     "Mitt konto.</p><p>The link is invalid or too old. Nothing was changed. You can stop the "
                     "mailings under My account.</p>", status=400)

    async def confirm(request: Request) -> HTMLResponse:
        try:
            _, purpose = links.read(request.path_params["token"])
        except InvalidToken:
            return invalid()
        what = escape(PURPOSES[purpose].description_sv if purpose in PURPOSES else purpose)
        return _page("Avsluta utskick / Unsubscribe",
                     f"<p>Vill du inte längre få: {what}?</p>"
                     '<form method="post"><button type="submit">Avsluta / Unsubscribe</button></form>')

    async def withdraw(request: Request) -> HTMLResponse:
        try:
            customer_id, purpose = links.read(request.path_params["token"])
        except InvalidToken:
            return invalid()
        await services.consent_ledger.withdraw_by_link(customer_id, purpose)
        return _page("Klart / Done", "<p>Du får inga fler sådana utskick.</p><p>You will get no more of these.</p>")

    return [Route("/unsubscribe/{token}", confirm, methods=["GET"]),
            Route("/unsubscribe/{token}", withdraw, methods=["POST"])]
