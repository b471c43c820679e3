"""E-mail change links cannot take an account over (P21): a link is bound to the account's security
stamp, so a password change or reset, logging out everywhere, a newer request or a stop by the current
address ends it; it works once; a change back does not revive older links; requests are rate limited,
and the current address is told, with a way to stop the change."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from shop_privacy.services import Services

from .conftest import client_for
from .helpers import ME, PASSWORD, UPDATE_PROFILE, Outbox, StorefrontClient, login, register_and_verify

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]

CONFIRM = "mutation($token: String!) { confirmEmailChange(token: $token) }"
STOP = "mutation($token: String!) { stopEmailChange(token: $token) }"
REQUEST_RESET = "mutation($email: String!) { requestPasswordReset(email: $email) { accepted } }"
RESET = "mutation($input: ResetPasswordInput!) { resetPassword(input: $input) }"
CHANGE_PASSWORD = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) }"
NEW_PASSWORD = "Ett-Helt-Nytt-Lösen-2027"
ATTACKER = "angripare@exempel.net"


async def _ask_change(client: StorefrontClient, outbox: Outbox, to: str, password: str = PASSWORD) -> str:
    (await client.gql(UPDATE_PROFILE, {"input": {"email": to, "currentPassword": password}})).ok()
    return await outbox.link_token(to, "confirm_email_change")


async def _victim(app: Starlette, outbox: Outbox, email: str) -> StorefrontClient:
    client = client_for(app)
    await register_and_verify(client, outbox, email)
    return client


async def _email_of(client: StorefrontClient) -> str:
    return (await client.gql(ME)).ok()["me"]["email"]


@pytest.mark.parametrize("defence", ["reset", "change_password", "logout_everywhere"])
async def test_p21_a_change_link_dies_when_the_owner_secures_the_account(
    app: Starlette, outbox: Outbox, unique_email: str, defence: str
) -> None:
    victim = await _victim(app, outbox, unique_email)
    attacker = client_for(app, ip="192.0.2.66")
    (await login(attacker, unique_email)).ok()  # knows the password, once
    link = await _ask_change(attacker, outbox, ATTACKER)
    if defence == "reset":
        (await victim.gql(REQUEST_RESET, {"email": unique_email})).ok()
        token = await outbox.link_token(unique_email, "password_reset")
        (await victim.gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})).ok()
    elif defence == "change_password":
        (await victim.gql(CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}})).ok()
    else:
        (await victim.gql("mutation { logoutEverywhere }")).ok()
    assert (await victim.gql(CONFIRM, {"token": link})).codes == ["BAD_USER_INPUT"]
    password = PASSWORD if defence == "logout_everywhere" else NEW_PASSWORD
    assert (await login(victim, unique_email, password)).ok()["login"]["customer"]["email"] == unique_email


async def test_p21_a_change_link_works_once_and_a_newer_request_or_a_change_back_kills_older_ones(
    app: Starlette, outbox: Outbox, unique_email: str
) -> None:
    client = await _victim(app, outbox, unique_email)
    first = await _ask_change(client, outbox, "forsta." + unique_email)
    second = await _ask_change(client, outbox, "andra." + unique_email)
    assert (await client.gql(CONFIRM, {"token": first})).codes == ["BAD_USER_INPUT"]  # overtaken
    (await client.gql(CONFIRM, {"token": second})).ok()
    assert await _email_of(client) == "andra." + unique_email
    assert (await client.gql(CONFIRM, {"token": second})).codes == ["BAD_USER_INPUT"]  # used
    # Back to the first address: the old links stay dead.
    back = await _ask_change(client, outbox, unique_email)
    (await client.gql(CONFIRM, {"token": back})).ok()
    for old in (first, second):
        assert (await client.gql(CONFIRM, {"token": old})).codes == ["BAD_USER_INPUT"]
    assert await _email_of(client) == unique_email


async def test_p21_the_current_address_is_told_and_can_stop_the_change(
    app: Starlette, outbox: Outbox, unique_email: str
) -> None:
    client = await _victim(app, outbox, unique_email)
    link = await _ask_change(client, outbox, ATTACKER)
    [notice] = await outbox.messages(unique_email, "email_change_requested")
    assert ATTACKER not in notice.get_payload(decode=True).decode()  # the new address is not echoed
    stop = await outbox.link_token(unique_email, "email_change_requested")
    anonymous = client_for(app, ip="192.0.2.7")
    assert (await anonymous.gql(STOP, {"token": stop})).ok()["stopEmailChange"] is True
    assert (await client.gql(CONFIRM, {"token": link})).codes == ["BAD_USER_INPUT"]
    assert await _email_of(client) == unique_email
    assert (await anonymous.gql(STOP, {"token": stop + "x"})).codes == ["BAD_USER_INPUT"]  # forged


async def test_p21_change_requests_to_one_account_are_rate_limited(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    client = await _victim(app, outbox, unique_email)
    limit = services.settings.email_changes_per_hour
    for index in range(limit):
        await _ask_change(client, outbox, f"ny{index}.{unique_email}")
    refused = await client.gql(UPDATE_PROFILE, {"input": {"email": "en.till@exempel.se", "currentPassword": PASSWORD}})
    assert refused.codes == ["RATE_LIMITED"] and refused.errors[0]["extensions"]["retryAfterSeconds"] > 0
