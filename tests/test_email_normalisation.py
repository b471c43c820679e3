"""One address, one account (P21): addresses are normalised before uniqueness (NFKC, lower-cased
local part, IDNA domain), and the database itself refuses a copy spelled differently."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from shop_privacy.services import Services
from shop_privacy.storage.tables import Customer
from shop_privacy.validation import _email

from .helpers import PASSWORD, REGISTER, Outbox, StorefrontClient, create_customer, login

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_p21_addresses_are_normalised_to_one_spelling() -> None:
    assert _email("Anna.Svensson@Exempel.SE") == "anna.svensson@exempel.se"
    assert _email(_full_width("anna@exempel.se")) == "anna@exempel.se"
    assert _email("anna@EXÄMPEL.se") == "anna@xn--exmpel-cua.se"


async def test_p21_a_full_width_or_upper_case_copy_is_the_same_account(
    client: StorefrontClient, services: Services, outbox: Outbox, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    for copy in (_full_width(unique_email), unique_email.upper()):
        (await client.gql(REGISTER, {"input": {"email": copy, "password": PASSWORD, "firstName": "Eva",
                                               "lastName": "Berg"}})).ok()
        (await login(client, copy)).ok()
    # Both registrations went to the existing account's owner; no second account was begun.
    kinds = [m["X-Shop-Mail-Kind"] for m in await outbox.messages(unique_email)]
    assert kinds == ["account_exists", "account_exists"]


async def test_p21_the_database_refuses_an_upper_case_duplicate(services: Services, unique_email: str) -> None:
    await create_customer(services, unique_email)
    for spelling in (unique_email.upper(), "Ny." + unique_email):
        with pytest.raises(IntegrityError):
            async with services.db.transaction() as session:
                await session.exec(insert(Customer).values(  # type: ignore[call-overload]
                    id=uuid.uuid4(), email=spelling, password_hash="x", first_name="A", last_name="B",
                    address_country="SE", preferred_language="sv", security_stamp="s"))
