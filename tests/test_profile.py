"""The profile: read it, correct it, change the e-mail address only with the password and a confirmed link."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer

from .helpers import ME, PASSWORD, UPDATE_PROFILE, Outbox, StorefrontClient, create_customer, login

CONFIRM = "mutation($token: String!) { confirmEmailChange(token: $token) }"

pytestmark = pytest.mark.anyio


@pytest.mark.policy("P23")
async def test_p23_the_customer_corrects_and_completes_their_profile(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    updated = (await client.gql(UPDATE_PROFILE, {"input": {
        "firstName": " Åsa ", "phone": "+46 8 123 456 78", "companyName": "Åsas Konsult",
        "organisationNumber": "556036-0793", "address": {"street": "Kungsgatan 5", "postalCode": "41119",
                                                        "city": "Göteborg"},
    }})).ok()["updateProfile"]
    assert updated["customer"]["firstName"] == "Åsa" and updated["customer"]["phone"] == "+46812345678"
    assert updated["customer"]["address"] == {"street": "Kungsgatan 5", "postalCode": "41119", "city": "Göteborg"}
    assert updated["emailChangePending"] is False
    # Left out: unchanged; null: cleared (where the field may be empty).
    cleared = (await client.gql(UPDATE_PROFILE, {"input": {"phone": None}})).ok()["updateProfile"]["customer"]
    assert cleared["phone"] is None and cleared["companyName"] == "Åsas Konsult"
    refused = await client.gql(UPDATE_PROFILE, {"input": {"lastName": None}})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert (await client.gql(ME)).ok()["me"]["lastName"] == "Svensson"


@pytest.mark.policy("P23")
async def test_p23_changing_the_email_needs_the_password_and_a_confirmed_link(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    new_email = "ny." + unique_email
    without = await client.gql(UPDATE_PROFILE, {"input": {"email": new_email}})
    assert without.codes == ["BAD_USER_INPUT"] and "current password" in without.errors[0]["message"]
    wrong = await client.gql(UPDATE_PROFILE, {"input": {"email": new_email, "currentPassword": "wrong-password-1"}})
    assert wrong.codes == ["INVALID_CREDENTIALS"]
    pending = (await client.gql(UPDATE_PROFILE, {"input": {"email": new_email, "currentPassword": PASSWORD}})).ok()
    assert pending["updateProfile"]["emailChangePending"] is True
    assert (await client.gql(ME)).ok()["me"]["email"] == unique_email  # not yet

    token = await outbox.link_token(new_email, "confirm_email_change")
    assert (await client.gql(CONFIRM, {"token": token[:-2] + "xx"})).codes == ["BAD_USER_INPUT"]
    assert (await client.gql(CONFIRM, {"token": token})).ok()["confirmEmailChange"] is True
    assert (await client.gql(ME)).ok()["me"]["email"] == new_email
    assert await outbox.messages(unique_email, "email_changed")
    # The link worked once: the address it changed from is gone.
    assert (await client.gql(CONFIRM, {"token": token})).codes == ["BAD_USER_INPUT"]
    (await login(client, new_email)).ok()


async def test_an_email_taken_meanwhile_cannot_be_confirmed(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    wanted = "wanted." + unique_email
    (await client.gql(UPDATE_PROFILE, {"input": {"email": wanted, "currentPassword": PASSWORD}})).ok()
    token = await outbox.link_token(wanted, "confirm_email_change")
    await create_customer(services, wanted)
    response = await client.gql(CONFIRM, {"token": token})
    assert response.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "email_unavailable"}
    async with services.db.reader() as session:
        emails = set((await session.exec(select(Customer.email))).all())
    assert emails == {unique_email, wanted}


async def test_emails_are_unique_case_insensitively(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    local, domain = unique_email.split("@")
    variant = f"{local.capitalize()}@{domain.upper()}"
    assert variant != unique_email and variant.lower() == unique_email
    (await login(client, variant)).ok()
    with pytest.raises(IntegrityError):  # the database's unique index refuses it, not only the API
        await create_customer(services, variant)
    async with services.db.reader() as session:
        emails = (await session.exec(select(Customer.email))).all()
    assert [e.lower() for e in emails].count(unique_email) == 1
