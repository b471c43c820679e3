"""Authentication done the way a security reviewer accepts it (P21)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from argon2 import PasswordHasher as Argon2
from argon2 import extract_parameters
from sqlalchemy import update
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.storage.tables import AuthSession, Customer, PasswordResetToken, PendingRegistration
from shop_privacy.storage.types import utc_now
from shop_privacy.tokens import token_hash

from .conftest import PRODUCTION_READY, client_for
from .helpers import LOGIN, LOGOUT, ME, PASSWORD, REGISTER, VERIFY, Outbox, StorefrontClient, login, register_and_verify

CHANGE_PASSWORD = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) }"""
REQUEST_RESET = """mutation($email: String!) { requestPasswordReset(email: $email) { accepted message } }"""
RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) }"""
NEW_PASSWORD = "Gröna-Äpplen-Faller-9"

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]


async def _customer(services: Services, email: str) -> Customer:
    async with services.db.reader() as session:
        return (await session.exec(select(Customer).where(Customer.email == email))).one()


async def test_p21_stored_hash_is_argon2id_with_the_configured_parameters(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    stored = (await _customer(services, unique_email)).password_hash
    parameters = extract_parameters(stored)
    settings = services.settings
    assert stored.startswith("$argon2id$")
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism)
    assert PASSWORD not in stored


async def test_p21_a_hash_with_outdated_parameters_is_upgraded_at_login(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    old_hash = Argon2(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with services.db.transaction() as session:
        await session.exec(update(Customer).where(Customer.email == unique_email).values(password_hash=old_hash))
    (await login(client, unique_email)).ok()
    upgraded = (await _customer(services, unique_email)).password_hash
    assert upgraded != old_hash
    assert extract_parameters(upgraded).memory_cost == services.settings.password_memory_kib
    (await login(client, unique_email)).ok()  # and the new hash verifies


async def test_p21_unknown_email_and_wrong_password_answer_identically_after_the_same_work(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register_and_verify(client, outbox, unique_email)
    verifications: list[str] = []
    real_verify = services.hasher._verify_sync

    def counting_verify(stored_hash: str, password: str) -> bool:
        verifications.append(stored_hash[:9])
        return real_verify(stored_hash, password)

    monkeypatch.setattr(services.hasher, "_verify_sync", counting_verify)
    wrong_password = await login(client, unique_email, "Not-The-Password-123")
    after_known = list(verifications)
    unknown = await login(client, "nobody." + unique_email, "Not-The-Password-123")
    assert wrong_password.body == unknown.body
    assert wrong_password.codes == ["INVALID_CREDENTIALS"]
    # One argon2id verification each: an unknown address costs the same work.
    assert after_known == ["$argon2id"] and verifications == ["$argon2id", "$argon2id"]


async def test_p21_session_token_is_stored_only_as_a_hash_and_cookie_is_httponly_lax(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    response = await client.http.post("/graphql", json={"query": LOGIN, "variables": {
        "input": {"email": unique_email, "password": PASSWORD}}})
    set_cookie = [v for v in response.headers.get_list("set-cookie") if v.startswith("sp_session=")][0]
    token = set_cookie.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    async with services.db.reader() as session:
        rows = (await session.exec(select(AuthSession))).all()
    assert token not in {row.token_hash for row in rows}
    assert token_hash(token) in {row.token_hash for row in rows}


async def test_p21_production_cookies_are_secure_and_host_prefixed(
    database_url: str, tmp_path, catalogue: dict[str, uuid.UUID]  # noqa: ANN001
) -> None:
    from .conftest import client_with

    async with client_with(database_url, tmp_path, base_url="https://shop.example", **PRODUCTION_READY) as client:
        response = await client.http.post("/graphql", json={
            "query": "mutation($i: AddToCartInput!) { addToCart(input: $i) { itemCount } }",
            "variables": {"i": {"productId": _product_id(catalogue["HOSTING-START"])}}})
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-sp_cart=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie and "Domain" not in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")


def _product_id(row_id: uuid.UUID) -> str:
    from shop_privacy.schema.core.ids import encode_id

    return encode_id("Product", row_id)


async def test_p21_a_session_token_replayed_after_logout_is_refused(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    bearer = (await client.gql(LOGIN, {"input": {"email": unique_email, "password": PASSWORD,
                                                 "tokenDelivery": "BEARER"}})).ok()["login"]["sessionToken"]
    headers = {"Authorization": f"Bearer {bearer}"}
    assert (await client.gql(ME, headers=headers)).ok()["me"]["email"] == unique_email
    assert (await client.gql(LOGOUT, headers=headers)).ok()["logout"] is True
    replay = await client.gql("{ me { id } myOrders(first: 1) { edges { cursor } } }", headers=headers)
    assert replay.data is None or replay.data.get("me") is None
    assert "UNAUTHENTICATED" in replay.codes


async def test_p21_changing_the_password_revokes_every_other_session(
    app: Starlette, client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    other_device = client_for(app, ip="198.51.100.9")
    (await login(other_device, unique_email)).ok()
    assert (await other_device.gql(ME)).ok()["me"] is not None

    changed = await client.gql(CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}})
    assert changed.ok()["changePassword"] is True
    assert (await client.gql(ME)).ok()["me"]["email"] == unique_email  # this session stays
    assert (await other_device.gql(ME)).ok()["me"] is None  # the other is gone
    assert (await login(other_device, unique_email)).codes == ["INVALID_CREDENTIALS"]
    (await login(other_device, unique_email, NEW_PASSWORD)).ok()
    assert await outbox.messages(unique_email, "password_changed")
    await other_device.http.aclose()


async def test_p21_change_password_needs_the_current_one(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    wrong = await client.gql(CHANGE_PASSWORD, {"input": {"currentPassword": "wrong-password-123",
                                                         "newPassword": NEW_PASSWORD}})
    assert wrong.codes == ["INVALID_CREDENTIALS"]
    anonymous = await client_for_anonymous(client).gql(
        CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}})
    assert anonymous.codes == ["UNAUTHENTICATED"]


def client_for_anonymous(client: StorefrontClient) -> StorefrontClient:
    import httpx

    return StorefrontClient(httpx.AsyncClient(transport=client.http._transport, base_url="http://testserver"))


async def test_p21_password_reset_link_is_signed_expires_and_works_once(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    other = client_for_anonymous(client)
    (await other.gql(REQUEST_RESET, {"email": unique_email.upper()})).ok()
    token = await outbox.link_token(unique_email, "password_reset")

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await other.gql(RESET, {"input": {"token": forged, "newPassword": NEW_PASSWORD}})).body["errors"][0][
        "extensions"] == {"code": "BAD_USER_INPUT", "reason": "token_invalid"}

    assert (await other.gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})).ok()["resetPassword"]
    again = await other.gql(RESET, {"input": {"token": token, "newPassword": "Yet-Another-Pass-77"}})
    assert again.body["errors"][0]["extensions"]["reason"] == "token_invalid"
    # Resetting ended every session, including the one that was logged in.
    assert (await client.gql(ME)).ok()["me"] is None
    (await login(other, unique_email, NEW_PASSWORD)).ok()

    # A new link, then the clock passes its hour: refused as expired.
    (await other.gql(REQUEST_RESET, {"email": unique_email})).ok()
    late_token = await outbox.link_token(unique_email, "password_reset")
    async with services.db.transaction() as session:
        await session.exec(update(PasswordResetToken).values(expires_at=utc_now() - timedelta(seconds=1)))
    expired = await other.gql(RESET, {"input": {"token": late_token, "newPassword": "Yet-Another-Pass-77"}})
    assert expired.body["errors"][0]["extensions"]["reason"] == "token_expired"


async def test_p21_reset_and_registration_answers_do_not_reveal_accounts(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    anonymous = client_for_anonymous(client)
    known = await anonymous.gql(REQUEST_RESET, {"email": unique_email})
    unknown = await anonymous.gql(REQUEST_RESET, {"email": "unknown." + unique_email})
    assert known.body == unknown.body
    register = {"password": PASSWORD, "firstName": "Eva", "lastName": "Berg"}
    again = await anonymous.gql(REGISTER, {"input": {"email": unique_email, **register}})
    fresh = await anonymous.gql(REGISTER, {"input": {"email": "fresh." + unique_email, **register}})
    assert again.body == fresh.body
    # The owner of the existing account is told by mail, not the one who asked.
    assert await outbox.messages(unique_email, "account_exists")
    assert await outbox.messages("fresh." + unique_email, "verify_email")


async def test_p21_an_unconfirmed_registration_cannot_log_in_and_links_are_checked(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    (await client.gql(REGISTER, {"input": {"email": unique_email, "password": PASSWORD,
                                           "firstName": "Eva", "lastName": "Berg"}})).ok()
    assert (await login(client, unique_email)).codes == ["INVALID_CREDENTIALS"]
    assert (await client.gql(VERIFY, {"token": "not-a-real-token", "password": PASSWORD})).codes == ["BAD_USER_INPUT"]
    token = await outbox.link_token(unique_email, "verify_email")
    async with services.db.transaction() as session:
        await session.exec(update(PendingRegistration).values(expires_at=utc_now() - timedelta(seconds=1)))
    expired = await client.gql(VERIFY, {"token": token, "password": PASSWORD})
    assert expired.body["errors"][0]["extensions"]["reason"] == "token_expired"
    async with services.db.reader() as session:
        assert (await session.exec(select(Customer).where(Customer.email == unique_email))).first() is None


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("kort-lösen", "at least 12"),
        ("x" * 257, "at most 256"),
        ("{local}-är-bäst-2026", "e-mail address"),
        ("password123456", "too common"),
        ("sommar2024!!", "too common"),
    ],
)
async def test_p21_weak_passwords_are_refused_with_a_reason(
    client: StorefrontClient, unique_email: str, password: str, why: str
) -> None:
    password = password.format(local=unique_email.split("@")[0])
    response = await client.gql(REGISTER, {"input": {"email": unique_email, "password": password,
                                                     "firstName": "Eva", "lastName": "Berg"}})
    assert response.codes == ["BAD_USER_INPUT"]
    assert why in response.errors[0]["message"]
    assert response.errors[0]["extensions"]["reason"] == "weak_password"


async def test_p21_any_unicode_password_of_acceptable_length_works(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    password = "日本語のパスワード🔐Ünïcødé"
    await register_and_verify(client, outbox, unique_email, password)
    (await client.gql(LOGOUT)).ok()
    (await login(client, unique_email, password)).ok()


async def test_p21_sessions_expire_when_idle_and_at_their_absolute_end(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    assert (await client.gql(ME)).ok()["me"] is not None
    idle = timedelta(seconds=services.settings.session_idle_timeout_seconds + 1)
    async with services.db.transaction() as session:
        await session.exec(update(AuthSession).values(last_seen_at=utc_now() - idle))
    assert (await client.gql(ME)).ok()["me"] is None

    (await login(client, unique_email)).ok()
    async with services.db.transaction() as session:
        await session.exec(update(AuthSession).where(AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
                           .values(expires_at=utc_now() - timedelta(seconds=1), last_seen_at=utc_now()))
    assert (await client.gql(ME)).ok()["me"] is None


async def test_p21_logout_everywhere_ends_all_sessions(
    app: Starlette, client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    other = client_for(app, ip="198.51.100.10")
    (await login(other, unique_email)).ok()
    assert (await client.gql("mutation { logoutEverywhere }")).ok()["logoutEverywhere"] is True
    assert (await client.gql(ME)).ok()["me"] is None
    assert (await other.gql(ME)).ok()["me"] is None
    await other.http.aclose()


async def test_p21_failed_logins_are_throttled_per_account_and_aliases_each_count(
    client: StorefrontClient, outbox: Outbox, services: Services, unique_email: str
) -> None:
    await register_and_verify(client, outbox, unique_email)
    limit = services.settings.login_failures_per_account
    aliases = " ".join(
        f'a{i}: login(input: {{email: "{unique_email}", password: "wrong-password-{i:03d}"}}) {{ customer {{ id }} }}'
        for i in range(limit + 2)
    )
    response = await client.gql(f"mutation {{ {aliases} }}")
    codes = response.codes
    # Each aliased login was an attempt: the first `limit` failed, the rest were refused unchecked.
    assert codes[:limit] == ["INVALID_CREDENTIALS"] * limit
    assert codes[limit:] == ["RATE_LIMITED"] * 2
    locked = await login(client, unique_email)  # even the right password now waits
    assert locked.codes == ["RATE_LIMITED"]
    assert locked.errors[0]["extensions"]["retryAfterSeconds"] > 0


async def test_p21_failed_logins_are_throttled_per_client_address(
    app: Starlette, client: StorefrontClient, outbox: Outbox, settings, unique_email: str  # noqa: ANN001
) -> None:
    attacker = client_for(app, ip="192.0.2.66")
    limit = settings.login_failures_per_address
    for attempt in range(limit):
        response = await login(attacker, f"victim{attempt}.{unique_email}", "wrong-password-123")
        assert response.codes == ["INVALID_CREDENTIALS"]
    assert (await login(attacker, "another." + unique_email, "wrong-password-123")).codes == ["RATE_LIMITED"]
    # Another address is not affected.
    assert (await login(client, "another." + unique_email, "wrong-password-123")).codes == ["INVALID_CREDENTIALS"]
    await attacker.http.aclose()
