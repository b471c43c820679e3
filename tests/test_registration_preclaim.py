"""Registration cannot be pre-claimed (P21): the account that a confirmation creates has the password
of the person who confirms, older links die with a newer registration, and the answer never claims a
mail that was not sent, while saying nothing about whether the address has an account."""

from __future__ import annotations

import pytest

from shop_privacy.services import Services

from .helpers import LOGIN, PASSWORD, REGISTER, VERIFY, Outbox, StorefrontClient, create_customer, login

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]

ATTACKER = "Angriparens-Lösenord-99"


def _register(email: str, password: str) -> dict[str, object]:
    return {"input": {"email": email, "password": password, "firstName": "Eva", "lastName": "Berg"}}


async def test_p21_a_registration_made_by_someone_else_cannot_take_over_the_address(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    # The attacker registers the victim's address with their own password, twice.
    for _ in range(2):
        (await client.gql(REGISTER, _register(unique_email, ATTACKER))).ok()
    attacker_link = await outbox.link_token(unique_email, "verify_email")
    # The owner registers with their own password; the attacker's links die with it.
    (await client.gql(REGISTER, _register(unique_email, PASSWORD))).ok()
    owner_link = await outbox.link_token(unique_email, "verify_email")
    assert owner_link != attacker_link
    # The owner clicks the attacker's (older) link: dead, whatever password is given.
    for password in (PASSWORD, ATTACKER):
        assert (await client.gql(VERIFY, {"token": attacker_link, "password": password})).codes == ["BAD_USER_INPUT"]
    # The owner's link wants the owner's password: the link alone, or the attacker's password, is not enough.
    assert (await client.gql(VERIFY, {"token": owner_link, "password": ATTACKER})).codes == ["INVALID_CREDENTIALS"]
    (await client.gql(VERIFY, {"token": owner_link, "password": PASSWORD})).ok()
    assert (await login(client, unique_email, ATTACKER)).codes == ["INVALID_CREDENTIALS"]
    (await client.gql(LOGIN, {"input": {"email": unique_email, "password": PASSWORD}})).ok()


async def test_p21_an_attacker_who_registers_last_still_gets_nothing(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    (await client.gql(REGISTER, _register(unique_email, PASSWORD))).ok()
    (await client.gql(REGISTER, _register(unique_email, ATTACKER))).ok()
    newest = await outbox.link_token(unique_email, "verify_email")
    # The owner, finding the newest mail, confirms with their own password: refused, no account made.
    assert (await client.gql(VERIFY, {"token": newest, "password": PASSWORD})).codes == ["INVALID_CREDENTIALS"]
    assert (await login(client, unique_email, ATTACKER)).codes == ["INVALID_CREDENTIALS"]
    # Registering again gives the owner a working link of their own.
    (await client.gql(REGISTER, _register(unique_email, PASSWORD))).ok()
    (await client.gql(VERIFY, {"token": await outbox.link_token(unique_email, "verify_email"),
                               "password": PASSWORD})).ok()


async def test_p21_past_the_mail_limit_the_answer_says_so_the_same_for_known_and_unknown_addresses(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    known = "known." + unique_email
    await create_customer(services, known)
    refusals = []
    for address in (known, unique_email):
        answers = [await client.gql(REGISTER, _register(address, PASSWORD)) for _ in range(4)]
        # Every answer that says "accepted" stands for a mail that went out; the fourth says none did.
        assert [a.codes for a in answers] == [[], [], [], ["RATE_LIMITED"]]
        kinds = [m["X-Shop-Mail-Kind"] for m in await outbox.messages(address)]
        assert kinds == ["account_exists" if address == known else "verify_email"] * 3
        refusals.append(answers[-1].errors[0]["message"])
        assert [a.body for a in answers[:3]] == [answers[0].body] * 3
    # Known and unknown addresses answer alike, the refusal included.
    assert refusals[0] == refusals[1]
