"""The storefront schema served at /graphql."""

from __future__ import annotations

import strawberry

from ..resolvers import accounts, carts, catalogue, consents, orders, rights
from ..settings import Settings
from .accounts.types import Accepted, Customer, LoginPayload, UpdateProfilePayload
from .carts.types import Cart
from .catalogue.types import Product, ProductConnection
from .consents.cookies import CookieConsent
from .consents.types import ConsentState
from .core.schema import ShopSchema, build_schema
from .orders.types import Order, OrderConnection
from .privacy_notice import PrivacyNotice
from .rights.types import Correction, DataExportPayload, SubjectRequest


@strawberry.type
class Query:
    products: ProductConnection = strawberry.field(resolver=catalogue.products, description="The catalogue.")
    product: Product | None = strawberry.field(resolver=catalogue.product)
    me: Customer | None = strawberry.field(resolver=accounts.me, description="Null when not logged in.")
    my_orders: OrderConnection | None = strawberry.field(resolver=orders.my_orders, description="Newest first.")
    order: Order | None = strawberry.field(resolver=orders.order, description="Only your own orders.")
    cart: Cart | None = strawberry.field(resolver=carts.cart)
    my_consents: list[ConsentState] = strawberry.field(
        resolver=consents.my_consents, description="Your consents (or, as a visitor, your cookie answer)."
    )
    cookie_consent: CookieConsent = strawberry.field(
        resolver=consents.cookie_consent,
        description="The cookie banner's questions, the answers given, and the tags the storefront may load now.",
    )
    my_requests: list[SubjectRequest] | None = strawberry.field(
        resolver=rights.my_requests,
        description="Your requests about your data (export, erasure, restriction, objection), newest first."
    )
    my_corrections: list[Correction] | None = strawberry.field(
        resolver=rights.my_corrections,
        description="Your corrections of your data, newest first, and whom each was passed on to.",
    )
    privacy_notice: PrivacyNotice = strawberry.field(
        resolver=catalogue.privacy_notice, description="Who is responsible for your data, and where to complain."
    )


@strawberry.type(description="Every payload is nullable: one failing mutation does not abort the others "
                             "in the same document, and each of them counts (e.g. against login throttling).")
class Mutation:
    register: Accepted | None = strawberry.mutation(resolver=accounts.register)
    verify_email: LoginPayload | None = strawberry.mutation(resolver=accounts.verify_email)
    login: LoginPayload | None = strawberry.mutation(resolver=accounts.login)
    logout: bool | None = strawberry.mutation(resolver=accounts.logout)
    logout_everywhere: bool | None = strawberry.mutation(resolver=accounts.logout_everywhere)
    change_password: bool | None = strawberry.mutation(resolver=accounts.change_password)
    request_password_reset: Accepted | None = strawberry.mutation(resolver=accounts.request_password_reset)
    reset_password: bool | None = strawberry.mutation(resolver=accounts.reset_password)
    update_profile: UpdateProfilePayload | None = strawberry.mutation(resolver=accounts.update_profile)
    confirm_email_change: bool | None = strawberry.mutation(resolver=accounts.confirm_email_change)
    stop_email_change: bool | None = strawberry.mutation(resolver=accounts.stop_email_change)
    add_to_cart: Cart | None = strawberry.mutation(resolver=carts.add_to_cart)
    update_cart_line: Cart | None = strawberry.mutation(resolver=carts.update_cart_line)
    remove_cart_line: Cart | None = strawberry.mutation(resolver=carts.remove_cart_line)
    clear_cart: Cart | None = strawberry.mutation(resolver=carts.clear_cart)
    checkout: Order | None = strawberry.mutation(resolver=orders.checkout)
    set_consent: ConsentState | None = strawberry.mutation(resolver=consents.set_consent)
    request_data_export: DataExportPayload | None = strawberry.mutation(resolver=rights.request_data_export)
    request_erasure: SubjectRequest | None = strawberry.mutation(resolver=rights.request_erasure)
    cancel_erasure: SubjectRequest | None = strawberry.mutation(resolver=rights.cancel_erasure)
    request_restriction: SubjectRequest | None = strawberry.mutation(resolver=rights.request_restriction)
    object_to_processing: SubjectRequest | None = strawberry.mutation(resolver=rights.object_to_processing)
    lift_marketing_objection: bool | None = strawberry.mutation(resolver=rights.lift_marketing_objection)
    confirm_request_identity: bool | None = strawberry.mutation(resolver=rights.confirm_request_identity)


def storefront_schema(settings: Settings, *, enforce_privacy: bool = True) -> ShopSchema:
    return build_schema(Query, Mutation, settings, enforce_privacy=enforce_privacy)
