"""The staff schema served at /admin/graphql.

Each query declares its purpose: `query @purpose(use: CUSTOMER_SERVICE) { … }`.
"""

from __future__ import annotations

import strawberry

from ..resolvers import admin
from ..resolvers import breaches as breach_register
from ..settings import Settings
from .accounts.types import Customer
from .admin.types import AccessLogConnection, StaffLoginPayload, StaffMember, purpose_directive
from .breaches.types import Breach
from .consents.types import DisclosureEntry
from .core.connections import Connection
from .core.schema import ShopSchema, build_schema
from .orders.types import Order, OrderConnection
from .rights.types import SubjectRequest, SubjectRequestConnection


@strawberry.type(name="Query")
class AdminQuery:
    me: StaffMember | None = strawberry.field(resolver=admin.me, description="The logged-in staff member.")
    customers: Connection[Customer] | None = strawberry.field(resolver=admin.customers)
    customer: Customer | None = strawberry.field(resolver=admin.customer)
    orders: OrderConnection | None = strawberry.field(resolver=admin.orders, description="Newest first.")
    order: Order | None = strawberry.field(resolver=admin.order)
    access_log: AccessLogConnection | None = strawberry.field(
        resolver=admin.access_log, description="Who read a customer's data, when and why (the DPO only)."
    )
    disclosures: list[DisclosureEntry] | None = strawberry.field(
        resolver=admin.disclosures, description="What went to whom about a customer (the DPO only)."
    )
    subject_requests: SubjectRequestConnection | None = strawberry.field(
        resolver=admin.subject_requests, description="The DPO's queue of data-subject requests, soonest due first."
    )
    breaches: list[Breach] | None = strawberry.field(
        resolver=breach_register.breaches, description="The breach register (the DPO only), latest discovered first."
    )
    breach: Breach | None = strawberry.field(resolver=breach_register.breach)


@strawberry.type(name="Mutation")
class AdminMutation:
    staff_login: StaffLoginPayload | None = strawberry.mutation(resolver=admin.staff_login)
    staff_logout: bool | None = strawberry.mutation(resolver=admin.staff_logout)
    register_subject_request: SubjectRequest | None = strawberry.mutation(resolver=admin.register_subject_request)
    run_subject_request: SubjectRequest | None = strawberry.mutation(resolver=admin.run_subject_request)
    decide_objection: SubjectRequest | None = strawberry.mutation(resolver=admin.decide_objection)
    lift_restriction: SubjectRequest | None = strawberry.mutation(resolver=admin.lift_restriction)
    correct_customer: Customer | None = strawberry.mutation(resolver=admin.correct_customer)
    record_legal_disclosure: DisclosureEntry | None = strawberry.mutation(resolver=admin.record_legal_disclosure)
    mark_disclosure_confidential: DisclosureEntry | None = strawberry.mutation(
        resolver=admin.mark_disclosure_confidential)
    extend_subject_request: SubjectRequest | None = strawberry.mutation(resolver=admin.extend_subject_request)
    record_breach: Breach | None = strawberry.mutation(resolver=breach_register.record_breach)
    add_breach_entry: Breach | None = strawberry.mutation(resolver=breach_register.add_breach_entry)
    mark_order_paid: Order | None = strawberry.mutation(resolver=admin.mark_order_paid)
    mark_order_delivered: Order | None = strawberry.mutation(resolver=admin.mark_order_delivered)
    cancel_order: Order | None = strawberry.mutation(resolver=admin.cancel_order)
    refund_order: Order | None = strawberry.mutation(resolver=admin.refund_order)


def admin_schema(settings: Settings, *, enforce_privacy: bool = True) -> ShopSchema:
    return build_schema(AdminQuery, AdminMutation, settings, enforce_privacy=enforce_privacy,
                        directives=[purpose_directive()])
