"""Requests by e-mail (P14, GDPR Art. 12(6)): the requester's identity is confirmed by a signed link mailed
to the account's address, not by a note; the request waits until then. Expired, used, tampered links and
links for another customer are refused with their own codes. Letters and visits keep the DPO's note."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner
from starlette.applications import Starlette

from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services

from .conftest import client_for
from .helpers import Outbox, StorefrontClient, create_customer, register_and_verify, staff_client

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]

REGISTER = """mutation($input: RegisterRequestInput!) @purpose(use: ACCOUNTABILITY) {
  registerSubjectRequest(input: $input) { id status channel holdReason identityVerification identityVerifiedAt } }"""
RUN = "mutation($id: ID!) @purpose(use: ACCOUNTABILITY) { runSubjectRequest(id: $id) { id status } }"
CONFIRM = "mutation($token: String!) { confirmRequestIdentity(token: $token) }"
MY_REQUESTS = "{ myRequests { id status identityVerifiedAt } }"


def _reason(response: object) -> str:
    return response.errors[0]["extensions"]["reason"]  # type: ignore[attr-defined,no-any-return]


async def _register_by_email(dpo: StorefrontClient, customer_gid: str, kind: str = "EXPORT") -> dict:
    return (await dpo.gql(REGISTER, {"input": {"customerId": customer_gid, "kind": kind}})).ok()[
        "registerSubjectRequest"]


async def test_p14_an_emailed_request_waits_for_the_link_mailed_to_the_account_then_proceeds_once(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer = await create_customer(services, unique_email, preferred_language="en")
    dpo = await staff_client(app, services, "dpo")
    registered = await _register_by_email(dpo, encode_id("Customer", customer))
    assert (registered["status"], registered["channel"]) == ("ON_HOLD", "EMAIL")
    assert registered["identityVerification"] is None and registered["identityVerifiedAt"] is None
    assert "confirm their identity" in registered["holdReason"]

    refused = await dpo.gql(RUN, {"id": registered["id"]})
    assert refused.codes == ["CONFLICT"] and _reason(refused) == "identity_unverified"
    assert await outbox.messages(unique_email, "data_export") == []

    (challenge,) = await outbox.messages(unique_email, "identity_challenge")
    assert challenge["Subject"] == "Confirm that the request came from you"
    token = await outbox.link_token(unique_email, "identity_challenge")
    visitor = client_for(app)  # the link works without logging in: the mailbox is the proof
    tampered = await visitor.gql(CONFIRM, {"token": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")})
    assert tampered.codes == ["BAD_USER_INPUT"] and _reason(tampered) == "token_invalid"
    assert (await visitor.gql(CONFIRM, {"token": token})).ok()["confirmRequestIdentity"] is True
    used = await visitor.gql(CONFIRM, {"token": token})
    assert used.codes == ["BAD_USER_INPUT"] and _reason(used) == "token_used"

    ran = (await dpo.gql(RUN, {"id": registered["id"]})).ok()["runSubjectRequest"]
    assert ran["status"] == "COMPLETED"
    assert await outbox.link_token(unique_email, "data_export")


async def test_p14_a_link_for_another_customer_or_an_expired_one_is_refused(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(app)
    customer_gid = await register_and_verify(client, outbox, unique_email)
    dpo = await staff_client(app, services, "dpo")
    registered = await _register_by_email(dpo, customer_gid, "ERASURE")
    token = await outbox.link_token(unique_email, "identity_challenge")

    other_email = f"annan.{unique_email}"
    other = client_for(app)
    await register_and_verify(other, outbox, other_email)
    wrong = await other.gql(CONFIRM, {"token": token})
    assert wrong.codes == ["FORBIDDEN"] and _reason(wrong) == "wrong_customer"
    mine = (await client.gql(MY_REQUESTS)).ok()["myRequests"]
    assert [(r["id"], r["status"]) for r in mine] == [(registered["id"], "ON_HOLD")]

    # A second request, its link signed eight days ago (the clock itsdangerous reads, not a sleep).
    export_email = f"export.{unique_email}"
    export_customer = await create_customer(services, export_email)
    signed_at = int(time.time()) - 8 * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        await _register_by_email(dpo, encode_id("Customer", export_customer))
    stale = await outbox.link_token(export_email, "identity_challenge")
    expired = await client_for(app).gql(CONFIRM, {"token": stale})
    assert expired.codes == ["BAD_USER_INPUT"] and _reason(expired) == "token_expired"

    # The right customer, logged in: accepted, and the erasure proceeds when the DPO runs it.
    assert (await client.gql(CONFIRM, {"token": token})).ok()["confirmRequestIdentity"] is True
    mine = (await client.gql(MY_REQUESTS)).ok()["myRequests"]
    assert mine[0]["status"] == "RECEIVED" and mine[0]["identityVerifiedAt"]
    assert (await dpo.gql(RUN, {"id": registered["id"]})).ok()["runSubjectRequest"]["status"] == "COMPLETED"


async def test_p14_a_note_is_for_letters_and_visits_not_for_email(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    customer_gid = encode_id("Customer", await create_customer(services, unique_email))
    dpo = await staff_client(app, services, "dpo")
    noted = await dpo.gql(REGISTER, {"input": {"customerId": customer_gid, "kind": "EXPORT",
                                               "identityVerification": "Replied from the account's address"}})
    assert noted.codes == ["BAD_USER_INPUT"] and _reason(noted) == "identity_note_not_for_email"
    staff_channel = await dpo.gql(REGISTER, {"input": {"customerId": customer_gid, "kind": "EXPORT",
                                                       "channel": "STAFF", "identityVerification": "x"}})
    assert _reason(staff_channel) == "channel_not_registrable"
    visit = (await dpo.gql(REGISTER, {"input": {"customerId": customer_gid, "kind": "EXPORT",
                                                "channel": "IN_PERSON",
                                                "identityVerification": "Driving licence checked at the desk"}})
             ).ok()["registerSubjectRequest"]
    assert (visit["status"], visit["identityVerification"]) == ("RECEIVED", "Driving licence checked at the desk")
    assert await outbox.messages(unique_email, "identity_challenge") == []
