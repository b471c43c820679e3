"""Consent (P03, P10, P16, P27): given and withdrawn as easily, with history; unsubscribe without login."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.services import Services
from shop_privacy.storage.tables import Consent

from .conftest import client_for
from .helpers import StorefrontClient, create_customer, login

pytestmark = pytest.mark.anyio

SET = """mutation($p: ConsentPurpose!, $g: Boolean!, $s: ConsentSource) { setConsent(purpose: $p, granted: $g,
  source: $s) { purpose granted history { granted source policyVersion recordedAt } } }"""


@pytest.mark.policy("P27")
async def test_p27_withdrawing_is_as_easy_as_granting_and_the_history_is_kept(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    granted = (await client.gql(SET, {"p": "MARKETING", "g": True, "s": "CHECKOUT"})).ok()["setConsent"]
    withdrawn = (await client.gql(SET, {"p": "MARKETING", "g": False})).ok()["setConsent"]
    assert granted["granted"] is True and withdrawn["granted"] is False
    assert [(h["granted"], h["source"]) for h in withdrawn["history"]] == [(True, "CHECKOUT"),
                                                                          (False, "ACCOUNT_PAGE")]
    assert {h["policyVersion"] for h in withdrawn["history"]} == {services.settings.policy_version}
    assert (await client.gql(SET, {"p": "MARKETING", "g": False, "s": "STAFF"})).codes == ["BAD_USER_INPUT"]


@pytest.mark.policy("P16")
async def test_p16_analytics_needs_recorded_cookie_consent_that_is_queryable_and_withdrawable(
    client: StorefrontClient,
) -> None:
    assert {c["purpose"]: c["granted"] for c in (await client.gql("{ myConsents { purpose granted } }")).ok()[
        "myConsents"]}["ANALYTICS"] is False
    (await client.gql(SET, {"p": "ANALYTICS", "g": True, "s": "COOKIE_BANNER"})).ok()
    mine = (await client.gql("{ myConsents { purpose granted } }")).ok()["myConsents"]
    assert {c["purpose"]: c["granted"] for c in mine}["ANALYTICS"] is True
    (await client.gql(SET, {"p": "ANALYTICS", "g": False, "s": "COOKIE_BANNER"})).ok()
    mine = (await client.gql("{ myConsents { purpose granted history { granted } } }")).ok()["myConsents"]
    analytics = next(c for c in mine if c["purpose"] == "ANALYTICS")
    assert analytics["granted"] is False and [h["granted"] for h in analytics["history"]] == [True, False]


async def _unsubscribe_url(services: Services, customer_id) -> str:  # noqa: ANN001
    url = services.unsubscribe_links.url(customer_id, "newsletter")
    return "/" + url.split("/", 3)[3]


@pytest.mark.policy("P10")
async def test_p10_the_unsubscribe_link_withdraws_without_login_once_and_harmlessly_again(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email)
    client = client_for(app)
    (await login(client, unique_email)).ok()
    (await client.gql(SET, {"p": "NEWSLETTER", "g": True})).ok()
    path = await _unsubscribe_url(services, customer_id)
    stranger = client_for(app, ip="198.51.100.40")  # no session at all
    page = await stranger.http.get(path)
    assert page.status_code == 200 and "<form method=\"post\">" in page.text
    live = await _live(services, customer_id)
    assert live is True  # a GET (e.g. a mail scanner following links) changes nothing
    one_click = await stranger.http.post(path, content=b"List-Unsubscribe=One-Click",
                                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200 and await _live(services, customer_id) is False
    again = await stranger.http.post(path)
    assert again.status_code == 200
    async with services.db.reader() as session:
        rows = (await session.exec(select(Consent).where(Consent.customer_id == customer_id))).all()
    assert [(r.granted, r.source) for r in sorted(rows, key=lambda r: r.recorded_at)] == [
        (True, "account_page"), (False, "unsubscribe_link")]
    await client.http.aclose()
    await stranger.http.aclose()


@pytest.mark.policy("P10")
async def test_p10_a_forged_or_expired_link_shows_a_clear_page_and_changes_nothing(
    app: Starlette, services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    customer_id = await create_customer(services, unique_email)
    client = client_for(app)
    (await login(client, unique_email)).ok()
    (await client.gql(SET, {"p": "NEWSLETTER", "g": True})).ok()
    path = await _unsubscribe_url(services, customer_id)
    for forged in (path[:-4] + "AAAA", "/unsubscribe/nonsense"):
        response = await client.http.post(forged)
        assert response.status_code == 400 and "Nothing was changed" in response.text
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: real(self) + 366 * 24 * 3600)
    assert (await client.http.post(path)).status_code == 400
    assert await _live(services, customer_id) is True
    await client.http.aclose()


@pytest.mark.policy("P10")
async def test_p10_marketing_mails_carry_one_click_unsubscribe_headers(services: Services, unique_email: str) -> None:
    from shop_privacy.marketing.mails import marketing_mail

    customer_id = await create_customer(services, unique_email)
    mail = marketing_mail(services.unsubscribe_links, to=unique_email, customer_id=customer_id,
                          purpose="marketing", language="sv", subject="Din varukorg", text="Hej!")
    url = services.unsubscribe_links.url(customer_id, "marketing").rsplit("/", 1)[0]
    assert mail.headers["List-Unsubscribe"].startswith(f"<{url}/")
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in mail.text


async def _live(services: Services, customer_id) -> bool:  # noqa: ANN001
    async with services.db.reader() as session:
        return (await services.consents.live(session, [customer_id], "newsletter"))[customer_id]
