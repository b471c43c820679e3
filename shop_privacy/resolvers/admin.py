"""Staff resolvers: every read goes through the privacy guard under the request's declared purpose."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from ..accounts.commands import PROFILE_PURPOSES
from ..accounts.directory import search_kind
from ..audit.access_log import NO_SUBJECT
from ..errors import BadUserInput, Forbidden, NotFound
from ..orders.lifecycle import STAFF_PURPOSES, Transition
from ..orders.service import OrderSearch
from ..pagination import CursorSealer
from ..privacy.access import ALLOWED, Outcome, Requester, staff_decision
from ..privacy.declarations import PersonalData
from ..privacy.purposes import PURPOSES, StaffRole
from ..privacy.taxonomy import CATEGORIES
from ..rights.requests import RequestStatus
from ..schema.accounts.types import Customer, TokenDelivery
from ..schema.admin.reads import SEARCHED_COLUMNS, order_guard, record_order_change, record_search
from ..schema.admin.types import (
    AccessLogConnection,
    AccessLogEntry,
    CorrectCustomerInput,
    OrderFilter,
    StaffLoginInput,
    StaffLoginPayload,
    StaffMember,
)
from ..schema.consents.types import ConfidentialDisclosureInput, DisclosureEntry, LegalDisclosureInput
from ..schema.core.connections import Connection, connection_from_page
from ..schema.core.context import AdminContext
from ..schema.core.guard import PrivacyGuard
from ..schema.core.ids import decode_id
from ..schema.core.minimisation import reject_unneeded
from ..schema.core.personal import declarations_of, personal_directive
from ..schema.orders.types import Order, OrderConnection
from ..schema.rights.types import ExtendRequestInput, RegisterRequestInput, SubjectRequest, SubjectRequestConnection
from ..staff.accounts import StaffViewer
from ..storage.columns import PRIVACY_INFO_KEY
from ..storage.tables import Customer as CustomerRow
from ..storage.tables import Order as OrderRow
from ..storage.tables import StaffUser
from .inputs import input_data, required_id

Info = strawberry.Info[AdminContext, None]
Row = TypeVar("Row")
CustomerSearch = Annotated[str | None, strawberry.argument(
    description="An exact e-mail address, or the start of a first name, last name or full name.",
    directives=[personal_directive(CustomerRow.email, CustomerRow.first_name, CustomerRow.last_name)],
)]
AccessLogSubject = Annotated[strawberry.ID | None, strawberry.argument(
    description="A customer's id; an order's id for reads of an erased customer's retained order; left out, "
    "the staff searches that matched nobody.",
)]


@lru_cache(maxsize=4)
def _sealer(secret: str) -> CursorSealer:
    return CursorSealer(secret)


def _cursors(context: AdminContext) -> CursorSealer:
    """Every cursor handed to staff is sealed: the keys inside (creation and order times) are personal."""
    return _sealer(context.services.settings.secret)


def _staff_requester(context: AdminContext, staff: StaffViewer) -> Requester:
    return Requester(staff_id=staff.staff_id, staff_role=staff.role, purpose=context.purpose)


def _require_purpose_covers(requester: Requester, columns: Iterable[Any], doing: str) -> None:
    """Processing personal data beyond reading a field (a search compares every customer's values with
    what was typed) needs a declared purpose the role may use and the compared columns are declared for."""
    purpose = PURPOSES.get(requester.purpose or "")
    if requester.purpose is None:
        raise Forbidden(f"Declare the purpose of {doing}, e.g. @purpose(use: CUSTOMER_SERVICE).",
                        reason="no_purpose_declared")
    if purpose is None or requester.staff_role not in purpose.staff_roles:
        raise Forbidden(f"Your role may not act under this purpose, so it may not do {doing}.",
                        reason="purpose_not_permitted")
    for column in columns:
        (name,), declaration = declarations_of([column])
        if staff_decision(declaration, requester) is not ALLOWED:
            raise Forbidden(f"{doing.capitalize()} compares `{name}`, which this purpose does not cover.",
                            reason="purpose_not_permitted", column=name)


def _require_readable(value: Any, requester: Requester, prefix: str = "") -> None:
    """A role may write only what it may read whole under the operation's purpose: otherwise staff could
    set (and, by the answer, confirm) values they are not allowed to see."""
    if not (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return
    for field in dataclasses.fields(value):
        given = getattr(value, field.name)
        if given is strawberry.UNSET:
            continue
        name = f"{prefix}{to_camel_case(field.name)}"
        declaration = field.metadata.get(PRIVACY_INFO_KEY)
        if isinstance(declaration, PersonalData):
            decision = staff_decision(declaration, requester)
            if decision.outcome is not Outcome.ALLOW:
                raise Forbidden(f"Your role may not read `{name}` under this purpose, so it may not write it.",
                                reason="field_not_readable", field=name)
        _require_readable(given, requester, prefix=f"{name}.")


async def _guard_for(context: AdminContext, subject_ids: Iterable[uuid.UUID | None]) -> PrivacyGuard:
    """The request's guard, knowing what it needs about these subjects, read now (the moment of use): their
    restrictions and objections (a subject not looked up counts as restricted) and, for a consent-based
    purpose, their consents."""
    guard = await context.guard()
    subjects = {s for s in subject_ids if s is not None}
    unknown_limits = [s for s in subjects if not guard.knows_limits_of(s)]
    unknown_consents = [s for s in subjects if not guard.knows_consent_of(s)] if guard.needs_consent else []
    if unknown_limits or unknown_consents:
        async with context.read() as session:
            guard.note_limits(await context.services.restrictions.limits(session, unknown_limits))
            if unknown_consents:
                guard.note_consents(await context.services.consents.live(session, unknown_consents,
                                                                         context.purpose or ""))
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
    """Finding customers is processing their data: it needs a purpose, and who was found is logged."""
    context = info.context
    staff = await context.require_staff()
    kind = search_kind(search)
    _require_purpose_covers(_staff_requester(context, staff), SEARCHED_COLUMNS[kind], "a customer search")
    cursors = _cursors(context)
    async with context.read() as session:
        page = await context.services.directory.search(session, search, first=first,
                                                       after=cursors.unsealed(after), purpose=context.purpose)
    guard = await _guard_for(context, (row.id for row in page.items))
    record_search(context.access_recorder(), kind, (row.id for row in page.items))
    return connection_from_page(cursors.sealed(page), lambda row: Customer.from_row(row, guard))


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
    return Customer.from_row(row, await _guard_for(context, [row.id])) if row else None


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
    cursors = _cursors(context)
    async with context.read() as session:
        page = await context.services.orders.staff_list(session, search, first=first,
                                                        after=cursors.unsealed(after))
    guard = await _guard_for(context, (row.customer_id for row in page.items))
    return connection_from_page(cursors.sealed(page), lambda row: Order.from_row(row, order_guard(guard, row)))


async def order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002 - GraphQL's name
    context = info.context
    row = await _one(context, "Order", id, context.services.orders.staff_get)
    if row is None:
        return None
    return Order.from_row(row, order_guard(await _guard_for(context, [row.customer_id]), row))


async def _change_order(info: Info, id: strawberry.ID, transition: Transition) -> Order | None:  # noqa: A002
    """A change of the order's state, under a purpose that fits it and that the role may use; recorded with
    the staff member's id on the order and, as processing of the customer's data, in the access log."""
    context = info.context
    staff = await context.require_staff()
    requester = _staff_requester(context, staff)
    doing = f"this change of an order ({transition.value})"
    _require_purpose_covers(requester, [OrderRow.status], doing)
    allowed = STAFF_PURPOSES[transition]
    if context.purpose not in allowed:
        raise Forbidden(f"Declare a purpose that fits {doing}: "
                        + ", ".join(f"@purpose(use: {p.upper()})" for p in sorted(allowed)) + ".",
                        reason="purpose_not_permitted")
    order_id = required_id("Order", id, "order")
    await context.services.order_transitions.by_staff(staff.staff_id, order_id, transition)
    # Read again: a held erasure may have completed with the change, and then the answer must show the
    # order as the erasure left it.
    async with context.read() as session:
        row = await context.services.orders.staff_get(session, order_id)
    if row is None:
        return None
    guard = await _guard_for(context, [row.customer_id])
    record_order_change(context.access_recorder(), row)
    return Order.from_row(row, order_guard(guard, row))


async def mark_order_paid(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002
    """The payment is in (an invoice paid, a payment reconciled by hand): @purpose(use: BOOKKEEPING)."""
    return await _change_order(info, id, Transition.PAY)


async def mark_order_delivered(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002
    """The ordered services are delivered (activated): @purpose(use: ORDER_FULFILMENT). Only after payment,
    except for invoice orders."""
    return await _change_order(info, id, Transition.DELIVER)


async def cancel_order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002
    """Call the order off, before delivery and while nothing is paid (a paid one is refunded instead):
    @purpose(use: ORDER_FULFILMENT) or CUSTOMER_SERVICE."""
    return await _change_order(info, id, Transition.CANCEL)


async def refund_order(info: Info, id: strawberry.ID) -> Order | None:  # noqa: A002
    """The money went back to the customer, after payment: @purpose(use: BOOKKEEPING)."""
    return await _change_order(info, id, Transition.REFUND)


async def access_log(info: Info, subject_id: AccessLogSubject = None, first: int = 20,
                     after: str | None = None) -> AccessLogConnection | None:
    """The DPO's view of who read a customer's data, newest first."""
    context = info.context
    staff = await context.require_staff()
    if staff.role is not StaffRole.DPO:
        raise Forbidden("Only the data protection officer reads the access log.")
    subject_type: str | None = None
    subject = NO_SUBJECT
    if subject_id is not None:
        # Reads of an erased customer's order are logged under the order's id (see schema/admin/reads.py).
        subject_type = next((t for t in ("Customer", "Order") if decode_id(t, subject_id) is not None), None)
        if subject_type is None:
            raise NotFound("No such customer or order.")
        subject = required_id(subject_type, subject_id, "customer")
    cursors = _cursors(context)
    async with context.read() as session:
        page = await context.services.access_log.for_subject(session, subject, first=first,
                                                             after=cursors.unsealed(after))
    guard = await _guard_for(context, (row.subject_id for row in page.items))
    return connection_from_page(cursors.sealed(page), lambda row: AccessLogEntry.from_row(row, guard, subject_type))


async def _require_dpo(context: AdminContext) -> StaffViewer:
    staff = await context.require_staff()
    if staff.role is not StaffRole.DPO:
        raise Forbidden("Only the data protection officer works the request queue.")
    return staff


async def subject_requests(info: Info, status: RequestStatus | None = None, first: int = 20,
                           after: str | None = None) -> SubjectRequestConnection | None:
    """The DPO's queue, soonest due first."""
    context = info.context
    await _require_dpo(context)
    cursors = _cursors(context)
    async with context.read() as session:
        page = await context.services.rights.queue.page(session, status, first=first, after=cursors.unsealed(after))
    guard = await _guard_for(context, (row.customer_id for row in page.items))
    return connection_from_page(cursors.sealed(page), lambda row: SubjectRequest.from_row(row, guard))


async def register_subject_request(info: Info, input: RegisterRequestInput) -> SubjectRequest | None:  # noqa: A002
    """A request that arrived by e-mail (the requester confirms their identity by a mailed link), by letter
    or in person (with a note of how the identity was verified)."""
    context = info.context
    staff = await _require_dpo(context)
    request = await context.services.rights.register(
        staff.staff_id, required_id("Customer", input.customer_id, "customer"),
        input.kind, input.identity_verification, input.received_at, input.channel,
        objects_to=input.objects_to.value if input.objects_to else None, grounds=input.grounds)
    return SubjectRequest.from_row(request, await _guard_for(context, [request.customer_id]))


async def extend_subject_request(info: Info, id: strawberry.ID,  # noqa: A002
                                 input: ExtendRequestInput) -> SubjectRequest | None:  # noqa: A002
    """More time for a request (Art. 12(3)); the customer is mailed the new due date and the reason."""
    context = info.context
    staff = await _require_dpo(context)
    request = await context.services.rights.deadlines.extend(
        staff.staff_id, required_id("SubjectRequest", id, "request"), input.months, input.reason)
    return SubjectRequest.from_row(request, await _guard_for(context, [request.customer_id]))


async def run_subject_request(info: Info, id: strawberry.ID) -> SubjectRequest | None:  # noqa: A002
    """Carry out a request: an erasure runs (or waits, saying why); an export's link is mailed; a restriction,
    or an objection to direct marketing, is put in force."""
    context = info.context
    await _require_dpo(context)
    request = await context.services.rights.run_for_dpo(required_id("SubjectRequest", id, "request"))
    return SubjectRequest.from_row(request, await _guard_for(context, [request.customer_id]))


async def correct_customer(info: Info, id: strawberry.ID,  # noqa: A002
                           input: CorrectCustomerInput) -> Customer | None:
    """Staff correct a customer's data on their behalf (P23); recorded as a request and in the history."""
    context = info.context
    staff = await context.require_staff()
    purpose = PURPOSES.get(context.purpose or "")
    if purpose is None or staff.role not in purpose.staff_roles or context.purpose not in PROFILE_PURPOSES:
        raise Forbidden("Declare a purpose your role may use to correct a customer's data, e.g. "
                        "@purpose(use: CUSTOMER_SERVICE).", reason="purpose_not_permitted")
    customer_id = required_id("Customer", id, "customer")
    data = input_data(input)
    reject_unneeded(input, PROFILE_PURPOSES)
    _require_readable(input, _staff_requester(context, staff))
    result = await context.services.rights.correct(staff.staff_id, customer_id, data, request_id=context.request_id)
    return Customer.from_row(result.customer, await _guard_for(context, [customer_id]))


async def disclosures(info: Info, customer_id: strawberry.ID) -> list[DisclosureEntry] | None:
    """What went to whom about a customer (the DPO): payment providers, newsletters, the law (P20)."""
    context = info.context
    await _require_dpo(context)
    subject = required_id("Customer", customer_id, "customer")
    async with context.read() as session:
        rows = await context.services.disclosures.history(session, subject)
    guard = await _guard_for(context, [subject])
    return [DisclosureEntry.from_row(row, guard) for row in rows]


async def record_legal_disclosure(info: Info, input: LegalDisclosureInput) -> DisclosureEntry | None:  # noqa: A002
    """Data handed over because the law or a court required it (P20), recorded with its reference."""
    context = info.context
    staff = await _require_dpo(context)
    customer_id = required_id("Customer", input.customer_id, "customer")
    unknown = [c for c in input.categories if c not in CATEGORIES]
    if unknown:
        raise BadUserInput(f"Unknown categories: {', '.join(unknown)}.", reason="unknown_category")
    async with context.services.db.transaction() as session:
        if await session.get(CustomerRow, customer_id) is None:
            raise NotFound("No such customer.")
        row = context.services.disclosures.record_legal_disclosure(
            session, staff_id=staff.staff_id, customer_id=customer_id, recipient=input.recipient,
            legal_reference=input.legal_reference, categories=input.categories)
    return DisclosureEntry.from_row(row, await _guard_for(context, [customer_id]))


async def mark_disclosure_confidential(info: Info,
                                       input: ConfidentialDisclosureInput) -> DisclosureEntry | None:  # noqa: A002
    """An authority asked for secrecy about a disclosure required by law (P20): until the end date the
    customer is not shown it (their export leaves it out); the DPO sees it with the reason and the date."""
    context = info.context
    staff = await _require_dpo(context)
    disclosure_id = required_id("Disclosure", input.disclosure_id, "disclosure")
    async with context.services.db.transaction() as session:
        row = await context.services.disclosures.mark_confidential(
            session, staff_id=staff.staff_id, disclosure_id=disclosure_id, reason=input.reason, until=input.until)
    return DisclosureEntry.from_row(row, await _guard_for(context, [row.customer_id]))


async def decide_objection(info: Info, id: strawberry.ID, granted: bool, reason: str) -> SubjectRequest | None:  # noqa: A002
    """The DPO decides an objection to a use resting on a legitimate interest (e.g. fraud prevention), with
    the reason recorded: granted, that processing stops for the customer; refused, the customer is mailed
    the reason."""
    context = info.context
    staff = await _require_dpo(context)
    request = await context.services.restrictions.decide_objection(
        staff.staff_id, required_id("SubjectRequest", id, "request"), granted=granted, reason=reason)
    return SubjectRequest.from_row(request, await _guard_for(context, [request.customer_id]))


async def lift_restriction(info: Info, customer_id: strawberry.ID, reason: str) -> SubjectRequest | None:
    """The DPO lifts a customer's restriction: the customer is mailed first, in the same transaction."""
    context = info.context
    staff = await _require_dpo(context)
    request = await context.services.restrictions.lift_restriction(
        staff.staff_id, required_id("Customer", customer_id, "customer"), reason)
    return SubjectRequest.from_row(request, await _guard_for(context, [request.customer_id]))
