"""The customer's rights over GraphQL: export, erasure, cancelling an erasure, restriction, objection, their
requests."""

from __future__ import annotations

import strawberry

from ..schema.core.context import StorefrontContext
from ..schema.rights.types import Correction, DataExportPayload, Grounds, ObjectionTarget, SubjectRequest
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


async def my_corrections(info: Info) -> list[Correction] | None:
    """The customer's corrections, newest first, with the recipients each was passed on to (P23)."""
    context = info.context
    viewer = await context.require_viewer()
    async with context.read() as session:
        records = await context.services.profiles.corrections(session, viewer.customer_id)
    guard = await context.guard()
    return [Correction.from_record(record, guard) for record in records]


async def my_requests(info: Info) -> list[SubjectRequest] | None:
    context = info.context
    viewer = await context.require_viewer()
    async with context.read() as session:
        rows = await context.services.rights.queue.for_customer(session, viewer.customer_id)
    guard = await context.guard()
    return [SubjectRequest.from_row(row, guard) for row in rows]


async def request_restriction(info: Info, grounds: Grounds = None) -> SubjectRequest | None:
    """Restrict the processing of your data (GDPR Art. 18), at once: it is kept but not used (no marketing, no
    disclosures but those the law requires, staff read it only to defend legal claims) until the DPO lifts
    the restriction, and you are mailed before that."""
    context = info.context
    viewer = await context.require_viewer()
    request = await context.services.restrictions.request_restriction(viewer.customer_id, grounds)
    return SubjectRequest.from_row(request, await context.guard())


async def object_to_processing(info: Info, to: ObjectionTarget,  # type: ignore[valid-type]
                               grounds: Grounds = None) -> SubjectRequest | None:
    """Object to a use of your data (GDPR Art. 21). DIRECT_MARKETING stops at once and for good: every
    marketing consent is withdrawn and cannot be given again until you lift the objection. An objection to
    a use resting on a legitimate interest (give your grounds) is decided by the DPO, who answers you."""
    context = info.context
    viewer = await context.require_viewer()
    request = await context.services.restrictions.object(viewer.customer_id, to.value, grounds)
    return SubjectRequest.from_row(request, await context.guard())


async def lift_marketing_objection(info: Info) -> bool | None:
    """Lift your objection to direct marketing; no consent comes back by itself (give each again if you want)."""
    context = info.context
    viewer = await context.require_viewer()
    return await context.services.restrictions.lift_marketing_objection(viewer.customer_id) > 0


async def confirm_request_identity(info: Info, token: str) -> bool | None:
    """Follow the link mailed for a request sent by e-mail: it confirms that the request came from the
    account's owner, and the request proceeds. Logged in as another customer, the link is refused."""
    context = info.context
    await context.services.rights.identity.confirm(token, await context.viewer())
    return True
