"""The cookie banner (P16, P27): one answer per consent purpose the shop's cookies serve, each withdrawn as
easily as given, a machine-readable list of the tags the storefront may load, and the visitor's answers
following them into the account when they register or log in."""

from __future__ import annotations

import pytest

from shop_privacy.privacy.cookies import (
    COOKIE_PURPOSES,
    COOKIE_TAGS,
    CookieDeclarationError,
    CookieTag,
    check_cookie_tags,
)
from shop_privacy.privacy.recipients import RECIPIENTS
from shop_privacy.services import Services

from .helpers import Outbox, StorefrontClient, create_customer, login, register_and_verify

pytestmark = pytest.mark.anyio

BANNER = """query($l: Language!) { cookieConsent(language: $l) { answered mayLoad
  purposes { purpose description granted
    tags { key recipient recipientName recipientCountry cookies description } } } }"""
ANSWER = """mutation($p: ConsentPurpose!, $g: Boolean!) { setConsent(purpose: $p, granted: $g, source: COOKIE_BANNER) {
  purpose granted history { granted source } } }"""


async def _banner(client: StorefrontClient, language: str = "EN") -> dict:
    return (await client.gql(BANNER, {"l": language})).ok()["cookieConsent"]


@pytest.mark.policy("P16")
def test_p16_the_banner_asks_about_analytics_and_marketing_pixels_each_sent_only_to_declared_recipients() -> None:
    assert COOKIE_PURPOSES == ("analytics", "marketing_cookies")
    assert {(t.key, t.recipient, t.purpose) for t in COOKIE_TAGS.values()} == {
        ("google_analytics", "google_analytics", "analytics"), ("google_ads", "google_ads", "marketing_cookies"),
        ("facebook_pixel", "facebook", "marketing_cookies")}
    for tag in COOKIE_TAGS.values():
        assert tag.purpose in RECIPIENTS[tag.recipient].purposes
    check_cookie_tags()
    undeclared = CookieTag("pixel", "mailchimp", "marketing_cookies", ("_x",), "x", "x")
    with pytest.raises(CookieDeclarationError, match="not declared for 'marketing_cookies'"):
        check_cookie_tags({"pixel": undeclared})
    without_consent = CookieTag("pixel", "stripe", "payment", ("_x",), "x", "x")
    with pytest.raises(CookieDeclarationError, match="asks for no consent"):
        check_cookie_tags({"pixel": without_consent})


@pytest.mark.policy("P16")
@pytest.mark.policy("P27")
async def test_p16_p27_a_visitor_answers_each_cookie_purpose_and_withdraws_as_easily(client: StorefrontClient) -> None:
    first = await _banner(client)
    assert first["answered"] is False and first["mayLoad"] == []
    assert [(p["purpose"], p["granted"]) for p in first["purposes"]] == [("ANALYTICS", False),
                                                                         ("MARKETING_COOKIES", False)]
    marketing = first["purposes"][1]
    assert {(t["key"], t["recipient"], t["recipientCountry"]) for t in marketing["tags"]} == {
        ("google_ads", "google_ads", "IE"), ("facebook_pixel", "facebook", "IE")}
    assert "_fbp" in next(t for t in marketing["tags"] if t["key"] == "facebook_pixel")["cookies"]

    (await client.gql(ANSWER, {"p": "ANALYTICS", "g": True})).ok()
    half = await _banner(client)
    assert half["answered"] is False and half["mayLoad"] == ["google_analytics"]
    (await client.gql(ANSWER, {"p": "MARKETING_COOKIES", "g": False})).ok()
    answered = await _banner(client)
    assert answered["answered"] is True and answered["mayLoad"] == ["google_analytics"]

    (await client.gql(ANSWER, {"p": "MARKETING_COOKIES", "g": True})).ok()
    assert sorted((await _banner(client))["mayLoad"]) == ["facebook_pixel", "google_ads", "google_analytics"]
    withdrawn = (await client.gql(ANSWER, {"p": "ANALYTICS", "g": False})).ok()["setConsent"]  # one request, as to give
    assert [h["granted"] for h in withdrawn["history"]] == [True, False]
    assert sorted((await _banner(client))["mayLoad"]) == ["facebook_pixel", "google_ads"]


@pytest.mark.policy("P16")
async def test_p16_a_visitor_may_answer_only_cookie_purposes(client: StorefrontClient) -> None:
    for purpose in ("NEWSLETTER", "MARKETING", "PERSONALISATION"):
        assert (await client.gql(ANSWER, {"p": purpose, "g": True})).codes == ["UNAUTHENTICATED"]
    assert (await _banner(client))["answered"] is False


@pytest.mark.policy("P16")
async def test_p16_the_banner_speaks_swedish_when_asked(client: StorefrontClient) -> None:
    swedish = await _banner(client, "SV")
    assert swedish["purposes"][0]["description"] == "Cookies för webbanalys"
    assert all("annonser" in tag["description"] for tag in swedish["purposes"][1]["tags"])
    english = await _banner(client, "EN")
    assert english["purposes"][0]["description"] == "Web analytics cookies"


@pytest.mark.policy("P16")
@pytest.mark.policy("P27")
async def test_p16_p27_the_visitors_answers_follow_them_into_a_new_account_at_registration(
    client: StorefrontClient, outbox: Outbox, unique_email: str
) -> None:
    (await client.gql(ANSWER, {"p": "ANALYTICS", "g": False})).ok()
    (await client.gql(ANSWER, {"p": "MARKETING_COOKIES", "g": True})).ok()
    assert client.http.cookies.get("sp_visitor")
    await register_and_verify(client, outbox, unique_email)
    assert client.http.cookies.get("sp_visitor") is None
    mine = await _banner(client)
    assert mine["answered"] is True and sorted(mine["mayLoad"]) == ["facebook_pixel", "google_ads"]
    consents = {c["purpose"]: c for c in (await client.gql(
        "{ myConsents { purpose granted history { granted source } } }")).ok()["myConsents"]}
    assert consents["MARKETING_COOKIES"]["history"] == [{"granted": True, "source": "COOKIE_BANNER"}]
    assert consents["MARKETING"]["granted"] is False  # ad pixels are not consent to marketing mails
    withdrawn = (await client.gql(ANSWER, {"p": "MARKETING_COOKIES", "g": False})).ok()["setConsent"]
    assert [h["granted"] for h in withdrawn["history"]] == [True, False]
    assert (await _banner(client))["mayLoad"] == []


@pytest.mark.policy("P16")
async def test_p16_the_visitors_answers_follow_them_at_login_and_stay_theirs_after_logout(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await client.gql(ANSWER, {"p": "ANALYTICS", "g": True})).ok()
    (await client.gql(ANSWER, {"p": "MARKETING_COOKIES", "g": False})).ok()
    (await login(client, unique_email)).ok()
    assert (await _banner(client))["mayLoad"] == ["google_analytics"]
    (await client.gql("mutation { logout }")).ok()
    after = await _banner(client)  # a new visitor on this browser: the account's answers are not shown to it
    assert after["answered"] is False and after["mayLoad"] == []
