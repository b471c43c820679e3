"""The reference account pages in headless Chromium against a real server (P10, P16, P22, P23, P24, P27,
P28 through the browser): the whole life of a customer, the session cookie out of scripts' reach, one
customer's data out of another's sight, every page passing axe-core. Screenshots: test-screenshots/."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .browser import (
    STAFF_PASSWORD,
    RunningShop,
    assert_accessible,
    axe_source,
    browser_or_skip,
    running_shop,  # noqa: F401 - a fixture
    screenshot,
)
from .helpers import PASSWORD, create_customer, seed_orders

EMAIL = "anna.browser@example.se"


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = browser_or_skip()
    from .browser import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def _context(browser: Any) -> Any:
    # bypass_csp: only so that the test can inject axe-core; the pages themselves run under their CSP.
    context = browser.new_context(accept_downloads=True, bypass_csp=True, locale="en-GB")
    context.set_default_timeout(15_000)
    return context


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _staff_settles(shop: RunningShop, order_id: str) -> None:
    """The shop delivers the paid order, through the staff API, as its staff would."""
    for role, purpose, mutation in (("fulfilment", "ORDER_FULFILMENT", "markOrderDelivered"),):
        with httpx.Client(base_url=shop.url) as staff:
            login = staff.post("/admin/graphql", json={"query": """mutation($input: StaffLoginInput!) {
              staffLogin(input: $input) { sessionToken } }""", "variables": {"input": {
                "email": f"{role}@shop.example", "password": STAFF_PASSWORD, "tokenDelivery": "BEARER"}}}).json()
            token = login["data"]["staffLogin"]["sessionToken"]
            changed = staff.post("/admin/graphql", headers={"authorization": f"Bearer {token}"}, json={
                "query": f"mutation($id: ID!) @purpose(use: {purpose}) {{ {mutation}(id: $id) {{ status }} }}",
                "variables": {"id": order_id}}).json()
            assert "errors" not in changed, changed


@pytest.mark.policy("P16")
@pytest.mark.policy("P22")
@pytest.mark.policy("P23")
@pytest.mark.policy("P24")
@pytest.mark.policy("P27")
@pytest.mark.policy("P28")
def test_p16_p22_p23_p24_p27_p28_a_customers_whole_life_in_the_browser(
    running_shop: RunningShop, browser: Any, axe: str  # noqa: F811
) -> None:
    expect = _expect()
    shop = running_shop
    context = _context(browser)
    page = context.new_page()

    # A visitor: the banner asks analytics and marketing separately; only analytics is allowed.
    page.goto(shop.page_url("shop"))
    banner = page.get_by_role("region", name="Cookies")
    expect(banner.get_by_label("Web analytics cookies")).to_be_visible()
    expect(banner.get_by_label("Marketing cookies and pixels (Google Ads, Facebook) in the browser")).to_be_visible()
    assert_accessible(page, axe, "shop with banner")
    screenshot(page, "01-cookie-banner")
    banner.get_by_label("Web analytics cookies").check()
    banner.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-may-load", "google_analytics")

    # The cart, as a visitor.
    page.locator('[data-sku="SSL-DV"]').get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    assert_accessible(page, axe, "catalogue")
    screenshot(page, "02-catalogue")

    # Register, then follow the mailed link.
    page.goto(shop.page_url("register"))
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Last name").fill("Svensson")
    assert_accessible(page, axe, "register")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Check your mail")).to_be_visible()
    screenshot(page, "03-register")
    page.goto(shop.mail.next_link("verify_email"))
    page.get_by_label("Password").fill(PASSWORD)
    assert_accessible(page, axe, "confirm the e-mail address")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your e-mail address is confirmed")).to_be_visible()
    assert "token=" not in page.url
    assert_accessible(page, axe, "e-mail address confirmed")
    screenshot(page, "04-verified")

    # The visitor's cart is the customer's now. Checkout first asks for a complete profile.
    page.goto(shop.page_url("cart"))
    expect(page.get_by_role("row", name="SSL certificate, domain validated")).to_be_visible()
    page.get_by_label("Card (Stripe)").check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("Complete your profile")

    # The profile: the API's message beside the field, then a correction that is taken.
    page.goto(shop.page_url("profile"))
    page.get_by_label("Phone").fill("not a phone")
    page.get_by_label("Street").fill("Storgatan 1")
    page.get_by_label("Postal code").fill("111 22")
    page.get_by_label("City").fill("Stockholm")
    page.get_by_role("button", name="Save").click()
    phone_error = page.locator('[data-error-for="phone"]')
    expect(phone_error).not_to_be_empty()
    expect(page.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, axe, "profile with an error")
    screenshot(page, "05-profile-error")
    page.get_by_label("Phone").fill("070-123 45 67")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    page.goto(shop.page_url("cart"))
    assert_accessible(page, axe, "cart")
    screenshot(page, "06-cart")
    page.get_by_label("Card (Stripe)").check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("is placed")).to_be_visible()
    page.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order")
    expect(page.get_by_text("SSL certificate, domain validated")).to_be_visible()
    order_id = page.url.split("id=", 1)[1]
    assert_accessible(page, axe, "order")
    screenshot(page, "07-order")
    page.goto(shop.page_url("orders"))
    expect(page.get_by_role("table")).to_contain_text("Paid")  # the sandbox card payment went through
    screenshot(page, "08-orders")

    # Correct the phone number, then find the new one in the downloaded export.
    page.goto(shop.page_url("profile"))
    page.get_by_label("Phone").fill("070-765 43 21")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.goto(shop.page_url("my-data"))
    expect(page.locator(".authority")).to_contain_text("IMY")
    export = page.get_by_role("form", name="Download my data")
    export.get_by_label("Password").fill(PASSWORD)
    with page.expect_download() as downloading:
        export.get_by_role("button", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(downloading.value.path().read_bytes()))
    data = json.loads(archive.read("data.json"))
    assert "+46707654321" in json.dumps(data)  # (the order keeps the phone it was placed with)

    # Consents: the banner's answer followed into the account; newsletter given, then withdrawn in one click.
    analytics = page.locator('[data-consent="ANALYTICS"]')
    expect(analytics.locator(".state")).to_have_text("Given")
    newsletter = page.locator('[data-consent="NEWSLETTER"]')
    newsletter.get_by_role("button", name="Give consent: Newsletter").click()
    expect(newsletter.locator(".state")).to_have_text("Given")
    page.locator('[data-consent="NEWSLETTER"]').get_by_role("button", name="Withdraw: Newsletter").click()
    expect(page.locator('[data-consent="NEWSLETTER"] .state')).to_have_text("Not given")
    page.locator('[data-consent="NEWSLETTER"] summary').click()
    expect(page.locator('[data-consent="NEWSLETTER"] details li')).to_have_count(2)
    assert_accessible(page, axe, "my data")
    screenshot(page, "09-my-data")

    # Delete the account: the unsettled order holds it, and the page says so.
    erase = page.get_by_role("form", name="Delete my account")
    erase.get_by_label("Password").fill(PASSWORD)
    erase.get_by_role("button", name="Delete my account").click()
    expect(erase.get_by_role("alert")).to_contain_text("cannot be deleted yet")
    assert_accessible(page, axe, "erasure held")
    screenshot(page, "10-erasure-held")
    # Once the shop has delivered, the waiting erasure completes by itself.
    _staff_settles(shop, order_id)
    page.goto(shop.page_url("my-data"))
    expect(page.get_by_text("Log in to see this page.")).to_be_visible()

    page.goto(shop.page_url("login"))
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.url.endswith("/account/login")
    assert_accessible(page, axe, "login")
    screenshot(page, "11-cannot-log-in")
    context.close()


def _log_in(page: Any, shop: RunningShop, email: str, password: str = PASSWORD) -> None:
    page.goto(shop.page_url("login"))
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    _expect()(page).to_have_url(shop.page_url("orders"))


@pytest.mark.policy("P22")
@pytest.mark.policy("P21")
def test_p21_p22_by_keyboard_the_session_cookie_is_out_of_scripts_reach_and_another_customer_sees_nothing(
    running_shop: RunningShop, browser: Any, axe: str  # noqa: F811
) -> None:
    expect = _expect()
    shop = running_shop
    first, second = "first.customer@example.se", "second.customer@example.se"

    async def seed(services: Any) -> str:
        customer = await create_customer(services, first, phone="+46701112233", address_city="Kiruna",
                                         preferred_language="en")
        await create_customer(services, second, preferred_language="en")
        await seed_orders(services, customer, 7, lines=1)
        return str(customer)

    shop.call(seed)
    one = _context(browser)
    page = one.new_page()
    # By keyboard alone: past the skip link and the banner's two questions to its "no", then log in.
    page.goto(shop.page_url("login"))
    page.locator("html[data-ready]").wait_for(state="attached")
    for expected in ("Skip to content", "Web analytics cookies", "Marketing cookies", "Only necessary cookies"):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.labels?.[0]?.textContent"
                                " || document.activeElement.textContent")
        assert focused.startswith(expected), (expected, focused)
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid", expected  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    page.get_by_label("E-mail").focus()
    page.keyboard.type(first)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(shop.page_url("orders"))
    cookies = {cookie["name"]: cookie for cookie in one.cookies()}
    assert cookies["sp_session"]["httpOnly"] is True and cookies["sp_session"]["sameSite"] == "Lax"
    assert "sp_session" not in page.evaluate("() => document.cookie")
    # Paging: five orders, then the older two.
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(5)
    page.get_by_role("button", name="Show older orders").click()
    expect(rows).to_have_count(7)
    expect(page.get_by_role("button", name="Show older orders")).to_be_hidden()
    assert_accessible(page, axe, "orders, two pages")
    first_order = page.locator("tbody tr a").first
    order_number, order_url = first_order.inner_text(), first_order.get_attribute("href")
    first_order.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order_number}")

    other = _context(browser)
    stranger = other.new_page()
    stranger.goto(shop.page_url("orders"))
    expect(stranger.get_by_text("Log in to see this page.")).to_be_visible()
    _log_in(stranger, shop, second)
    expect(stranger.get_by_text("You have no orders yet.")).to_be_visible()
    stranger.goto(shop.url + order_url)
    expect(stranger.get_by_role("link", name="Back to your orders")).to_be_visible()
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Your orders")
    stranger.goto(shop.page_url("profile"))
    expect(stranger.locator("input[name=email]")).to_have_value(second)
    for path in ("orders", "profile", "my-data", "cart"):
        stranger.goto(shop.page_url(path))
        expect(stranger.locator("main h1")).to_be_visible()
        content = stranger.content()
        assert first not in content and order_number not in content and "Kiruna" not in content, path
    assert stranger.evaluate("() => document.cookie") == ""

    # The second customer, with nothing unsettled, deletes their account at once and sees what went and what
    # stays, and why; the first customer's session and data are untouched.
    stranger.goto(shop.page_url("my-data"))
    erase = stranger.get_by_role("form", name="Delete my account")
    erase.get_by_label("Password").fill(PASSWORD)
    erase.get_by_role("button", name="Delete my account").click()
    expect(stranger.get_by_text("Your account is deleted.")).to_be_visible()
    # In words: the categories by their labels, the reasons with their legal basis (no keys).
    expect(stranger.locator("ul.removed")).to_contain_text("E-mail address")
    expect(stranger.locator("ul.kept")).to_contain_text("Legal obligation (GDPR Art. 6(1)(c))")
    for key in ("user.contact.email", "legal_obligation"):
        assert key not in stranger.locator("main").inner_text()
    assert_accessible(stranger, axe, "account deleted")
    expect(stranger.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    screenshot(stranger, "12-erased")
    page.goto(shop.page_url("profile"))
    expect(page.locator("input[name=email]")).to_have_value(first)
    one.close()
    other.close()


@pytest.mark.policy("P10")
@pytest.mark.policy("P23")
def test_p10_p23_in_swedish_checkout_with_every_payment_method_email_change_reset_and_unsubscribe(
    running_shop: RunningShop, browser: Any, axe: str  # noqa: F811
) -> None:
    expect = _expect()
    shop = running_shop
    email, new_email = "karin@example.se", "karin.ny@example.se"
    customer_id = shop.call(lambda services: create_customer(
        services, email, preferred_language="sv", phone="+46701234567", company_name="Exempel AB",
        company_org_number="556036-0793", address_street="Storgatan 1", address_postal_code="11122",
        address_city="Stockholm"))
    context = _context(browser)
    page = context.new_page()
    page.goto(shop.page_url("login"))
    page.get_by_role("button", name="Only necessary cookies").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-may-load", "")
    _log_in(page, shop, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina beställningar")  # the customer's language
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    for method, label, extra in (("CARD_STRIPE", "Kort (Stripe)", None), ("CARD_PAYPAL", "PayPal", None),
                                 ("INVOICE", "Faktura (företag)", ("Organisationsnummer", "556036-0793")),
                                 ("SWISH", "Swish", ("Swish-nummer", "070-123 45 67"))):
        page.goto(shop.page_url("shop"))
        page.locator('[data-sku="HOSTING-START"]').get_by_role("button", name="Lägg i varukorgen").click()
        expect(page.get_by_text("Tillagd i varukorgen.")).to_be_visible()
        page.goto(shop.page_url("cart"))
        if method == "CARD_STRIPE":  # quantities change in the cart
            quantity = page.get_by_label("Antal: Web hosting Start")
            before = page.locator(".cart-total").inner_text()
            quantity.fill("3")
            quantity.press("Enter")
            expect(page.get_by_label("Antal: Web hosting Start")).to_have_value("3")
            expect(page.locator(".cart-total")).not_to_have_text(before)
        page.get_by_label(label, exact=True).check()
        if extra:
            page.get_by_label(extra[0]).fill(extra[1])
            assert_accessible(page, axe, f"checkout with {method}")
        page.get_by_role("button", name="Beställ").click()
        expect(page.get_by_text("Tack! Beställning")).to_be_visible()
        if method == "SWISH":
            assert_accessible(page, axe, "order placed")
        screenshot(page, f"20-checkout-{method.lower()}")
    page.goto(shop.page_url("orders"))
    expect(page.locator("tbody tr")).to_have_count(4)
    assert_accessible(page, axe, "orders in Swedish")

    # A new e-mail address is used once the link mailed to it is opened.
    page.goto(shop.page_url("profile"))
    page.get_by_label("E-post", exact=True).fill(new_email)
    page.get_by_label("Nuvarande lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Öppna länken")).to_be_visible()
    page.goto(shop.mail.next_link("confirm_email_change"))
    expect(page.get_by_text("Din nya e-postadress används nu.")).to_be_visible()
    assert_accessible(page, axe, "new e-mail address confirmed")
    screenshot(page, "21-email-confirmed")

    # Newsletter: given on the page, withdrawn by the mail's unsubscribe link without logging in (P10).
    page.goto(shop.page_url("my-data"))
    page.locator('[data-consent="NEWSLETTER"] button').click()
    expect(page.locator('[data-consent="NEWSLETTER"] .state')).to_have_text("Lämnat")
    link = shop.call(lambda services: _unsubscribe_url(services, customer_id))
    mail_reader = _context(browser).new_page()
    mail_reader.goto(link)
    mail_reader.get_by_role("button", name="Avsluta / Unsubscribe").click()
    expect(mail_reader.get_by_text("Du får inga fler sådana utskick.")).to_be_visible()
    mail_reader.context.close()
    page.reload()
    expect(page.locator('[data-consent="NEWSLETTER"] .state')).to_have_text("Inte lämnat")
    page.locator('[data-consent="NEWSLETTER"] summary').click()
    expect(page.locator('[data-consent="NEWSLETTER"] details li').last).to_contain_text("avregistreringslänk")

    # Forgotten password: log out, ask for a link, choose a new password, log in with it.
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    page.get_by_role("link", name="Glömt lösenordet?").click()
    page.get_by_label("E-post", exact=True).fill(new_email)
    assert_accessible(page, axe, "forgotten password")
    page.get_by_role("button", name="Skicka en länk").click()
    expect(page.locator(".form-status")).not_to_be_empty()
    page.goto(shop.mail.next_link("password_reset"))
    page.get_by_label("Nytt lösenord").fill("Ett-Helt-Nytt-Lösen-2026")
    assert_accessible(page, axe, "reset password")
    page.get_by_role("button", name="Spara lösenordet").click()
    expect(page.get_by_text("Lösenordet är bytt.")).to_be_visible()
    _log_in(page, shop, new_email, "Ett-Helt-Nytt-Lösen-2026")
    context.close()


async def _unsubscribe_url(services: Any, customer_id: Any) -> str:
    return str(services.unsubscribe_links.url(customer_id, "newsletter"))
