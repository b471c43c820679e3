"""Field-level privacy for staff: purpose-bound reads, consent, masking, denial (P02, P03, P14, P17, P19)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette

from shop_privacy.consents.ledger import ConsentOwner
from shop_privacy.privacy.purposes import PURPOSES, LegalBasis
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services

from .helpers import StorefrontClient, create_customer, seed_orders, staff_client

pytestmark = pytest.mark.anyio

CUSTOMER = """query($id: ID!) @purpose(use: {purpose}) {{ customer(id: $id) {{
  id email firstName lastName phone companyName organisationNumber
  address {{ street postalCode city country }} }} }}"""
ORDERS = """query($customer: ID!) @purpose(use: {purpose}) {{ orders(filter: {{customerId: $customer}}, first: 10) {{
  edges {{ node {{ id number total {{ gross {{ minorUnits }} }} contact {{ email phone organisationNumber }}
  lines {{ sku quantity total {{ gross {{ minorUnits }} }} }} }} }} }} }}"""


@dataclass
class Shop:
    services: Services
    anna: uuid.UUID  # marketing consent given
    bo: uuid.UUID  # no marketing consent

    def id(self, customer: uuid.UUID) -> str:
        return encode_id("Customer", customer)


@pytest.fixture
async def shop(services: Services, unique_email: str) -> AsyncIterator[Shop]:
    profile = {"phone": "+46701234567", "company_name": "Annas IT AB", "company_org_number": "556036-0793",
               "address_street": "Storgatan 1", "address_postal_code": "11122", "address_city": "Stockholm"}
    anna = await create_customer(services, "anna." + unique_email, first_name="Anna", **profile)
    bo = await create_customer(services, "bo." + unique_email, first_name="Bo", **profile)
    await seed_orders(services, anna, 2, lines=2)
    ledger = services.consent_ledger
    await ledger.set(ConsentOwner(anna, None), "marketing", True, "account_page")
    await ledger.set(ConsentOwner(bo, None), "marketing", True, "checkout")
    await ledger.withdraw_by_link(bo, "marketing")  # withdrawn: the newest record counts
    yield Shop(services, anna, bo)


def _privacy(response) -> dict[str, str]:  # noqa: ANN001
    return {".".join(map(str, e["path"])): e["reason"] for e in response.body.get("extensions", {}).get("privacy", [])}


@pytest.mark.policy("P14")
async def test_p14_support_for_customer_service_sees_contact_details_but_not_the_org_number(
    app: Starlette, shop: Shop
) -> None:
    support = await staff_client(app, shop.services, "support")
    response = await support.gql(CUSTOMER.format(purpose="CUSTOMER_SERVICE"), {"id": shop.id(shop.anna)})
    customer = response.data["customer"]
    assert customer["email"].startswith("anna.") and customer["phone"] == "+46701234567"
    assert customer["address"] == {"street": "Storgatan 1", "postalCode": "11122", "city": "Stockholm",
                                   "country": "SE"}
    assert customer["organisationNumber"] is None
    (error,) = response.errors
    assert error["path"] == ["customer", "organisationNumber"]
    assert error["extensions"] == {"code": "PRIVACY_DENIED", "reason": "purpose_not_permitted"}
    assert _privacy(response) == {"customer.organisationNumber": "purpose_not_permitted"}


@pytest.mark.policy("P14")
async def test_p14_accounting_for_bookkeeping_sees_org_number_and_amounts_but_not_the_phone(
    app: Starlette, shop: Shop
) -> None:
    accounting = await staff_client(app, shop.services, "accounting")
    customer = await accounting.gql(CUSTOMER.format(purpose="BOOKKEEPING"), {"id": shop.id(shop.anna)})
    assert customer.data["customer"]["organisationNumber"] == "556036-0793"
    # The phone's declaration has a masked form: shown masked, never whole.
    assert customer.data["customer"]["phone"] == "+4670*****67"
    assert _privacy(customer)["customer.phone"] == "purpose_not_permitted"
    assert customer.data["customer"]["firstName"] is None  # names are not bookkeeping data
    assert customer.data["customer"]["email"] == "a***@e***.se"
    # An address not needed for the purpose is reduced to its city.
    assert customer.data["customer"]["address"] == {"street": None, "postalCode": None, "city": "Stockholm",
                                                    "country": "SE"}

    orders = (await accounting.gql(ORDERS.format(purpose="BOOKKEEPING"), {"customer": shop.id(shop.anna)})).data
    first = orders["orders"]["edges"][0]["node"]
    assert first["total"]["gross"]["minorUnits"] == 2500 and first["number"].startswith("T-")
    assert [line["total"]["gross"]["minorUnits"] for line in first["lines"]] == [1250, 1250]
    assert first["contact"]["phone"] is None  # seeded orders have no phone; nothing leaks either way


@pytest.mark.policy("P03")
@pytest.mark.policy("P19")
async def test_p03_p19_marketing_sees_an_email_only_with_that_customers_live_consent(
    app: Starlette, shop: Shop
) -> None:
    marketing = await staff_client(app, shop.services, "marketing")
    query = """query @purpose(use: MARKETING) { customers(first: 10) { edges { node { id email phone } } } }"""
    response = await marketing.gql(query)
    by_id = {edge["node"]["id"]: edge["node"] for edge in response.data["customers"]["edges"]}
    assert by_id[shop.id(shop.anna)]["email"].startswith("anna.")
    assert by_id[shop.id(shop.bo)]["email"] is None  # consent withdrawn
    reasons = _privacy(response)
    bo_index = [edge["node"]["id"] for edge in response.data["customers"]["edges"]].index(shop.id(shop.bo))
    assert reasons[f"customers.edges.{bo_index}.node.email"] == "no_consent"
    # The phone is not declared for marketing: masked for Anna, and nothing at all without consent.
    assert by_id[shop.id(shop.anna)]["phone"] == "+4670*****67"
    assert by_id[shop.id(shop.bo)]["phone"] is None
    assert reasons[f"customers.edges.{bo_index}.node.phone"] == "no_consent"


@pytest.mark.policy("P17")
async def test_p17_a_staff_query_without_a_purpose_returns_no_personal_value(app: Starlette, shop: Shop) -> None:
    dpo = await staff_client(app, shop.services, "dpo")
    response = await dpo.gql(CUSTOMER.replace(" @purpose(use: {purpose})", "").format(),
                             {"id": shop.id(shop.anna)})
    customer = response.data["customer"]
    assert customer["id"] == shop.id(shop.anna)
    personal_values = {k: v for k, v in customer.items() if k != "id"}
    assert all(v is None for k, v in personal_values.items() if k != "address")
    assert set(customer["address"].values()) == {None}
    assert set(_privacy(response).values()) == {"no_purpose_declared"}
    assert {e["extensions"]["code"] for e in response.errors} == {"PRIVACY_DENIED"}


@pytest.mark.policy("P14")
async def test_p14_a_role_cannot_borrow_a_purpose_it_may_not_use(app: Starlette, shop: Shop) -> None:
    support = await staff_client(app, shop.services, "support")
    response = await support.gql(CUSTOMER.format(purpose="BOOKKEEPING"), {"id": shop.id(shop.anna)})
    customer = response.data["customer"]
    assert customer["organisationNumber"] is None and customer["email"] is None and customer["phone"] is None
    assert set(_privacy(response).values()) == {"purpose_not_permitted"}


async def test_staff_need_to_log_in_and_unknown_purposes_fail_validation(
    app: Starlette, client: StorefrontClient, shop: Shop
) -> None:
    import httpx

    anonymous = StorefrontClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                   base_url="http://testserver"), path="/admin/graphql")
    response = await anonymous.gql(CUSTOMER.format(purpose="CUSTOMER_SERVICE"), {"id": shop.id(shop.anna)})
    assert response.codes == ["UNAUTHENTICATED"] and response.data == {"customer": None}
    support = await staff_client(app, shop.services, "support")
    unknown = await support.gql(CUSTOMER.format(purpose="SELLING_DATA"), {"id": shop.id(shop.anna)})
    assert unknown.codes == ["GRAPHQL_VALIDATION_FAILED"]
    # The storefront's session is no key to the staff schema.
    assert (await client.gql("{ me { id } }")).ok()["me"] is None


async def test_staff_search_finds_by_exact_email_or_name_prefix(app: Starlette, shop: Shop, unique_email: str) -> None:
    support = await staff_client(app, shop.services, "support")
    query = """query($s: String) @purpose(use: CUSTOMER_SERVICE) { customers(search: $s, first: 10) {
      edges { node { firstName } } } }"""

    async def names(search: str) -> list[str]:
        return [e["node"]["firstName"] for e in (await support.gql(query, {"s": search})).ok()["customers"]["edges"]]

    assert await names("ANNA." + unique_email.upper()) == ["Anna"]
    assert await names("an") == ["Anna"]
    assert sorted(await names("anna svensson")) == ["Anna"]
    assert await names("%%") == [] and await names("a_") == []  # wildcards are literal
    assert (await support.gql(query, {"s": "a"})).codes == ["BAD_USER_INPUT"]


@pytest.mark.policy("P02")
@pytest.mark.policy("P19")
def test_p02_p19_every_purpose_has_a_legal_basis_and_marketing_uses_need_consent() -> None:
    assert all(purpose.legal_basis is not None for purpose in PURPOSES.values())
    for key in ("newsletter", "marketing", "personalisation", "analytics"):
        assert PURPOSES[key].legal_basis is LegalBasis.CONSENT and PURPOSES[key].needs_consent
    assert not PURPOSES["order_fulfilment"].needs_consent


async def test_customers_still_read_all_of_their_own_data(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    from .helpers import ME, login

    await create_customer(services, unique_email, company_org_number="556036-0793", phone="+46701234567")
    (await login(client, unique_email)).ok()
    response = await client.gql(ME)
    assert response.ok()["me"]["organisationNumber"] == "556036-0793"
    assert "extensions" not in response.body


@pytest.mark.policy("P01")
@pytest.mark.policy("P28")
async def test_p01_p28_the_api_names_the_controller_the_dpo_and_the_supervisory_authority(
    database_url: str, tmp_path
) -> None:  # noqa: ANN001
    from .conftest import client_with

    async with client_with(database_url, tmp_path, controller_name="NESK", dpo_email="vd@nesk.se") as client:
        notice = (await client.gql("{ privacyNotice { controller dpoEmail supervisoryAuthority } }")).ok()
        assert notice["privacyNotice"]["controller"] == "NESK" and notice["privacyNotice"]["dpoEmail"] == "vd@nesk.se"
        assert "IMY" in notice["privacyNotice"]["supervisoryAuthority"]


async def test_staff_logins_answer_alike_for_unknown_and_wrong_and_set_a_staff_cookie(
    app: Starlette, services: Services
) -> None:
    import httpx

    from .helpers import STAFF_LOGIN, STAFF_PASSWORD

    support = await staff_client(app, services, "support", email="support@shop.example")
    assert (await support.gql("{ me { email role } }")).ok()["me"] == {"email": "support@shop.example",
                                                                          "role": "SUPPORT"}
    fresh = StorefrontClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver"),
                             path="/admin/graphql")
    wrong = await fresh.gql(STAFF_LOGIN, {"input": {"email": "support@shop.example", "password": "nope-nope-nope"}})
    unknown = await fresh.gql(STAFF_LOGIN, {"input": {"email": "nobody@shop.example", "password": "nope-nope-nope"}})
    assert wrong.body == unknown.body and wrong.codes == ["INVALID_CREDENTIALS"]
    response = await fresh.http.post("/admin/graphql", json={"query": STAFF_LOGIN, "variables": {
        "input": {"email": "support@shop.example", "password": STAFF_PASSWORD}}})
    assert response.headers["set-cookie"].startswith("sp_staff=") and "HttpOnly" in response.headers["set-cookie"]
    assert (await fresh.gql("mutation { staffLogout }")).ok()["staffLogout"] is True
    assert (await fresh.gql("{ me { id } }")).ok()["me"] is None


@pytest.mark.policy("P03")
def test_p03_a_consent_or_limits_noted_after_a_subjects_first_object_decide_their_later_objects() -> None:
    """The guard works out each subject once per request; what it learns later about a subject (consent, a
    restriction looked up) must reach that subject's next objects, not a decision made without it."""
    from shop_privacy.privacy.access import NO_LIMITS, ProcessingLimits, Requester
    from shop_privacy.privacy.purposes import StaffRole
    from shop_privacy.schema.accounts.types import Customer
    from shop_privacy.schema.core.guard import AccessRecorder, PrivacyGuard
    from shop_privacy.schema.core.personal import Withheld, personal_fields

    staff_id, subject = uuid.uuid4(), uuid.uuid4()
    guard = PrivacyGuard(Requester(staff_id=staff_id, staff_role=StaffRole.MARKETING, purpose="marketing"),
                         AccessRecorder(staff_id, "marketing", "request-1"))

    def email_shown() -> bool:
        values = {name: "anna@exempel.se" for name, _ in personal_fields(Customer)}
        return guard.shape(Customer, subject, values)["email"].__class__ is not Withheld

    assert not email_shown()  # limits not looked up: decided as restricted (fails closed)
    guard.note_limits({subject: NO_LIMITS})
    assert not email_shown()  # no consent known yet
    guard.note_consents({subject: True})
    assert email_shown()
    guard.note_limits({subject: ProcessingLimits(restricted=True)})
    assert not email_shown()
