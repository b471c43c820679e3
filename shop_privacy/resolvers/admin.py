"""Staff resolvers: every read goes through the privacy guard under the request's declared purpose."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import Forbidden, NotFound
from ..orders.service import OrderSearch
from ..privacy.purposes import StaffRole
from ..schema.accounts.types import Customer, TokenDelivery
from ..schema.admin.types import (
    AccessLogConnection,
    AccessLogEntry,
    OrderFilter,
    StaffLoginInput,
    StaffLoginPayload,
    StaffMember,
)
from ..schema.core.connections import Connection, connection_from_page
from ..schema.core.context import AdminContext
from ..schema.core.guard import PrivacyGuard
from ..schema.core.ids import decode_id
from ..schema.core.personal import personal_directive
from ..schema.orders.types import Order, OrderConnection
from ..storage.tables import Customer as CustomerRow
from ..storage.tables import StaffUser
from .inputs import required_id

Info = strawberry.Info[AdminContext, None]
Row = TypeVar("Row")
CustomerSearch = Annotated[str | None, strawberry.argument(
    description="An exact e-mail address, or the start of a first name, last name or full name.",
    directives=[personal_directive(CustomerRow.email, CustomerRow.first_name, CustomerRow.last_name)],
)]


async def _guard_with_consents(context: AdminContext, subject_ids: Iterable[uuid.UUID | None]) -> PrivacyGuard:
    """The request's guard, knowing the consents it needs for these subjects, read now (the moment of use)."""
    guard = await context.guard()
    if guard.needs_consent:
        wanted = [s for s in subject_ids if s is not None and not guard.knows_consent_of(s)]
        if wanted:
            async with context.read() as session:
                guard.note_consents(await context.services.consents.live(session, wanted, context.purpose or ""))
    return guard


async def staff_login(info: Info, input: StaffLoginInput) -> StaffLoginPayload | None:  # noqa: A002
    context = info.context
    token, staff = await context.services.staff.login(input.email, input.password, client_ip=context.client_ip)
    context.act_as(staff)
    if input.token_delivery is TokenDelivery.COOKIE:
        context.set_session_cookie(token)
    async with context.read() as session:
        row = await session.get(StaffUser, staff.staff_id)
    if row is None:
        raise NotFound("No such staff member.")
    return StaffLoginPayload(staff_member=StaffMember.from_row(row, await context.guard()),
                             session_token=token if input.token_delivery is TokenDelivery.BEARER else None)


async def staff_logout(info: Info) -> bool | None:
    context = info.context
    staff = await context.staff()
    context.clear_session_cookie()
    if staff is None:
        return False
    await context.services.staff.logout(staff)
    context.act_as(None)
    return True


async def me(info: Info) -> StaffMember | None:
    context = info.context
    staff = await context.staff()
    if staff is None:
        return None
    async with context.read() as session:
        row = await session.get(StaffUser, staff.staff_id)
    return StaffMember.from_row(row, await context.guard()) if row else None


async def customers(info: Info, search: CustomerSearch = None, first: int = 20,
                    after: str | None = None) -> Connection[Customer] | None:
    context = info.context
    await context.require_staff()
    async with context.read() as session:
        page = await context.services.directory.search(session, search, first=first, after=after)
    guard = await _guard_with_consents(context, (row.id for row in page.items))
    return connection_from_page(page, lambda row: Customer.from_row(row, guard))


async def _one(context: AdminContext, type_name: str, id: str,  # noqa: A002
               fetch: Callable[[AsyncSession, uuid.UUID], Awaitable[Row | None]]) -> Row | None:
    """The row behind an opaque id, for a logged-in staff member; None for a bad id or no row."""
    await context.require_staff()
    row_id = decode_id(type_name, id)
    if row_id is None:
        return None
    async with context.read() as session:
        return await fetch(session, row_id)


async def customer(info: Info, id: strawberry.ID) -> Customer | None:  # noqa: A002 - GraphQL's name
    context = info.context
    row = await _one(context, "Customer", id, context.services.directory.get)
    return Customer.from_row(row, await _guard_with_consents(context, [row.id])) if row else None


async def orders(info: Info, filter: OrderFilter | None = None, first: int = 20,  # noqa: A002
                 after: str | None = None) -> OrderConnection | None:
    context = info.context
    await context.require_staff()
    search = OrderSearch()
    if filter is not None:
        search = OrderSearch(
            customer_id=required_id("Customer", filter.customer_id, "customer") if filter.customer_id else None,
            status=filter.status.value if filter.status else None,
            placed_from=filter.placed_from, placed_before=filter.placed_before,
        )
    async with context.read() as session:
        page = await context.services.orders.staff_list(session, search, first=first, after=after)
    guard = await _guard_with_consents(context, (row.customer_id for row in page.items))
    return connection_from_page(page, lambda row: Order.from_row(row, guard))


async def order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002 - GraphQL's name
    context = info.context
    row = await _one(context, "Order", id, context.services.orders.staff_get)
    return Order.from_row(row, await _guard_with_consents(context, [row.customer_id])) if row else None


async def access_log(info: Info, subject_id: strawberry.ID, first: int = 20,
                     after: str | None = None) -> AccessLogConnection | None:
    """The DPO's view of who read a customer's data, newest first."""
    context = info.context
    staff = await context.require_staff()
    if staff.role is not StaffRole.DPO:
        raise Forbidden("Only the data protection officer reads the access log.")
    subject = required_id("Customer", subject_id, "customer")
    async with context.read() as session:
        page = await context.services.access_log.for_subject(session, subject, first=first, after=after)
    guard = await context.guard()
    return connection_from_page(page, lambda row: AccessLogEntry.from_row(row, guard))
