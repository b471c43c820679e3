"""Account resolvers: registration, login and sessions, passwords, the profile."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..accounts.authentication import LoggedIn
from ..accounts.commands import ACCOUNT_PURPOSES, PROFILE_PURPOSES
from ..accounts.sessions import Viewer
from ..errors import NotFound
from ..schema.accounts.types import (
    Accepted,
    ChangePasswordInput,
    Customer,
    LoginInput,
    LoginPayload,
    RegisterInput,
    ResetPasswordInput,
    TokenDelivery,
    UpdateProfileInput,
    UpdateProfilePayload,
)
from ..schema.core.context import StorefrontContext
from ..schema.core.minimisation import reject_unneeded
from ..schema.core.personal import personal_directive
from ..storage.tables import Customer as CustomerRow
from .inputs import input_data

Info = strawberry.Info[StorefrontContext, None]
PersonalEmail = Annotated[str, strawberry.argument(directives=[personal_directive(CustomerRow.email)])]

REGISTER_ACCEPTED = (
    "Thank you. If the address can be used, a mail with a confirmation link is on its way to it."
)
RESET_ACCEPTED = "If the address has an account, a mail with a link to choose a new password is on its way."


async def me(info: Info) -> Customer | None:
    context = info.context
    viewer = await context.viewer()
    if viewer is None:
        return None
    async with context.read() as session:
        row = await context.services.profiles.get(session, viewer.customer_id)
    return Customer.from_row(row, await context.guard()) if row else None


async def _logged_in(context: StorefrontContext, result: LoggedIn, delivery: TokenDelivery) -> LoginPayload:
    context.act_as(Viewer(result.customer_id, result.session_id))
    context.clear_cart_cookie()  # the cart, and the visitor's cookie consents, now belong to the account
    context.clear_visitor_cookie()
    if delivery is TokenDelivery.COOKIE:
        context.set_session_cookie(result.token)
    async with context.read() as session:
        row = await context.services.profiles.get(session, result.customer_id)
    if row is None:
        raise NotFound("No such customer.")
    return LoginPayload(
        customer=Customer.from_row(row, await context.guard()),
        cart_merged=result.cart_merged,
        session_token=result.token if delivery is TokenDelivery.BEARER else None,
    )


async def register(info: Info, input: RegisterInput) -> Accepted | None:  # noqa: A002 - GraphQL's name
    reject_unneeded(input, ACCOUNT_PURPOSES)
    await info.context.services.registration.register(input_data(input))
    return Accepted(accepted=True, message=REGISTER_ACCEPTED)


async def verify_email(info: Info, token: str, password: str,
                       token_delivery: TokenDelivery = TokenDelivery.COOKIE) -> LoginPayload | None:
    """Confirms the address with the password chosen at registration: the link alone is not enough."""
    context = info.context
    result = await context.services.registration.verify_email(
        token, password, client_ip=context.client_ip, cart_token=context.cart_token,
        visitor_token=context.visitor_token, replaces=context.session_token,
    )
    return await _logged_in(context, result, token_delivery)


async def login(info: Info, input: LoginInput) -> LoginPayload | None:  # noqa: A002
    context = info.context
    data = input_data(input)
    delivery = TokenDelivery(data.pop("token_delivery"))
    result = await context.services.authentication.login(
        data, client_ip=context.client_ip, cart_token=context.cart_token, visitor_token=context.visitor_token,
        replaces=context.session_token,
    )
    return await _logged_in(context, result, delivery)


async def logout(info: Info) -> bool | None:
    """Ends this session. False when there was none."""
    context = info.context
    viewer = await context.viewer()
    context.clear_session_cookie()
    if viewer is None:
        return False
    await context.services.authentication.logout(viewer)
    context.act_as(None)
    return True


async def logout_everywhere(info: Info) -> bool | None:
    context = info.context
    viewer = await context.require_viewer()
    await context.services.authentication.logout_everywhere(viewer)
    context.clear_session_cookie()
    context.act_as(None)
    return True


async def change_password(info: Info, input: ChangePasswordInput) -> bool | None:  # noqa: A002
    context = info.context
    viewer = await context.require_viewer()
    await context.services.credentials.change_password(viewer, input_data(input), client_ip=context.client_ip)
    return True


async def request_password_reset(info: Info, email: PersonalEmail) -> Accepted | None:
    await info.context.services.credentials.request_reset({"email": email})
    return Accepted(accepted=True, message=RESET_ACCEPTED)


async def reset_password(info: Info, input: ResetPasswordInput) -> bool | None:  # noqa: A002
    await info.context.services.credentials.reset_password(input_data(input))
    return True


async def update_profile(info: Info, input: UpdateProfileInput) -> UpdateProfilePayload | None:  # noqa: A002
    context = info.context
    viewer = await context.require_viewer()
    reject_unneeded(input, PROFILE_PURPOSES)
    result = await context.services.profiles.update(viewer, input_data(input), request_id=context.request_id,
                                                   client_ip=context.client_ip)
    return UpdateProfilePayload(customer=Customer.from_row(result.customer, await context.guard()),
                                email_change_pending=result.email_change_pending)


async def stop_email_change(info: Info, token: str) -> bool | None:
    """From the mail to the current address: stops an e-mail change its owner did not ask for. True
    whether or not a change was still waiting (the answer reveals nothing more)."""
    await info.context.services.profiles.stop_email_change(token)
    return True


async def confirm_email_change(info: Info, token: str) -> bool | None:
    """The link authenticates the change; the answer says only that it was made."""
    await info.context.services.profiles.confirm_email_change(token, request_id=info.context.request_id)
    return True
