"""GET /export/{token}: the export package, streamed, for the logged-in customer the link was made for."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..errors import ShopError
from ..schema.core.cookies import CookiePolicy
from ..services import Services
from .graphql_view import json_error, request_id_for

_STATUS = {"UNAUTHENTICATED": 401, "NOT_FOUND": 404, "BAD_USER_INPUT": 400}


def export_download_route(services: Services) -> Route:
    cookies = CookiePolicy.from_settings(services.settings)

    async def download(request: Request) -> Response:
        request_id = request_id_for(request)
        async with services.db.read() as session:
            viewer = await services.authentication.viewer(session, cookies.session_token(request))
        if viewer is not None:
            await services.authentication.touch(viewer)
        if viewer is None:
            return json_error(401, "Log in to download your data.", "UNAUTHENTICATED", request_id)
        try:
            subject = await services.rights.subject_for_download(request.path_params["token"], viewer)
        except ShopError as error:
            return json_error(_STATUS.get(error.code, 400), error.message, error.code, request_id, **error.details)
        return StreamingResponse(
            services.rights.export.zip_stream(subject),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="my-data.zip"', "Cache-Control": "no-store",
                     "X-Request-ID": request_id},
        )

    return Route("/export/{token}", download, methods=["GET"], name="data_export")
