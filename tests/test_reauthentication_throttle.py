"""Every password check goes through the login's throttle (P21): wrong passwords given to re-authenticate
an export or an erasure, or as the current password of an e-mail change, count against the same account,
and once it is locked out even the right password (and a login) is refused for a while."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from shop_privacy.services import Services

from .conftest import client_for
from .helpers import PASSWORD, UPDATE_PROFILE, Outbox, login, register_and_verify

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]

EXPORT = "mutation($p: String) { requestDataExport(password: $p) { downloadUrl } }"
ERASE = "mutation($p: String) { requestErasure(password: $p) { id status } }"


def _email_change(password: str) -> tuple[str, dict[str, object]]:
    return UPDATE_PROFILE, {"input": {"email": "ny.adress@exempel.se", "currentPassword": password}}


@pytest.mark.parametrize("operation", ["export", "erasure", "email_change"])
async def test_p21_re_authentication_is_throttled_like_login_on_the_same_account(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str, operation: str
) -> None:
    client = client_for(app)
    await register_and_verify(client, outbox, unique_email)

    def attempt(password: str):  # noqa: ANN202
        if operation == "export":
            return client.gql(EXPORT, {"p": password})
        if operation == "erasure":
            return client.gql(ERASE, {"p": password})
        return client.gql(*_email_change(password))

    limit = services.settings.login_failures_per_account
    for index in range(limit):
        assert (await attempt(f"Fel-Lösenord-{index}-xyz")).codes == ["INVALID_CREDENTIALS"]
    assert (await attempt("Fel-Lösenord-sista-xyz")).codes == ["RATE_LIMITED"]
    # The same account's counter: the right password, and a login from another client, wait too.
    assert (await attempt(PASSWORD)).codes == ["RATE_LIMITED"]
    other = client_for(app, ip="192.0.2.44")
    assert (await login(other, unique_email)).codes == ["RATE_LIMITED"]
    await client.http.aclose()
    await other.http.aclose()


async def test_p21_logging_in_again_in_the_same_browser_ends_the_session_it_replaces(
    app: Starlette, services: Services, outbox: Outbox, unique_email: str
) -> None:
    client = client_for(app)
    await register_and_verify(client, outbox, unique_email)
    first = client.http.cookies["sp_session"]
    (await login(client, unique_email)).ok()
    second = client.http.cookies["sp_session"]
    assert first != second
    stranger = client_for(app, ip="192.0.2.99")
    me = "{ me { id } }"
    assert (await stranger.gql(me, headers={"Authorization": f"Bearer {first}"})).ok()["me"] is None
    assert (await stranger.gql(me, headers={"Authorization": f"Bearer {second}"})).ok()["me"] is not None
    await client.http.aclose()
    await stranger.http.aclose()
