"""The customer's rights over GraphQL: export, erasure, cancelling an erasure, their requests."""

from __future__ import annotations

import strawberry

from ..schema.core.context import StorefrontContext
from ..schema.rights.types import DataExportPayload, SubjectRequest
from .inputs import required_id

Info = strawberry.Info[StorefrontContext, None]


async def request_data_export(info: Info, password: str | None = None) -> DataExportPayload | None:
    """Give the password unless you gave it in the last ten minutes."""
    context = info.context
    viewer = await context.require_viewer()
    issued = await context.services.rights.request_export(viewer, password, client_ip=context.client_ip)
    return DataExportPayload(
        download_url=str(context.request.url_for("data_export", token=issued.token)),
        expires_at=issued.expires_at,
        request=SubjectRequest.from_row(issued.request, await context.guard()),
    )


async def request_erasure(info: Info, password: str | None = None) -> SubjectRequest | None:
    """Erases the account unless an order is unsettled (then it waits, and says why). The answer's
    report says what was removed and what the law makes the shop keep, and until when."""
    context = info.context
    viewer = await context.require_viewer()
    guard = await context.guard()  # decided before the account, and the session, are gone
    request = await context.services.rights.request_erasure(viewer, password, client_ip=context.client_ip)
    if request.status == "completed":
        context.clear_session_cookie()
        context.act_as(None)
    return SubjectRequest.from_row(request, guard)


async def cancel_erasure(info: Info, request_id: strawberry.ID) -> SubjectRequest | None:
    context = info.context
    viewer = await context.require_viewer()
    request = await context.services.rights.cancel_erasure(viewer, required_id("SubjectRequest", request_id,
                                                                                "request"))
    return SubjectRequest.from_row(request, await context.guard())


async def my_requests(info: Info) -> list[SubjectRequest] | None:
    context = info.context
    viewer = await context.require_viewer()
    async with context.read() as session:
        rows = await context.services.rights.queue.for_customer(session, viewer.customer_id)
    guard = await context.guard()
    return [SubjectRequest.from_row(row, guard) for row in rows]
