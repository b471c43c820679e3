"""Staff reads are purpose-bound and logged (P14): customer searches, paging cursors, an erased customer's
retained orders, and writes of values the role may not read."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.audit.access_log import NO_SUBJECT
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import AccessLogEntry, Customer

from .helpers import create_customer, seed_orders, staff_client
from .rights_fixtures import seed_everything

pytestmark = pytest.mark.anyio

SEARCH = """query($s: String, $after: String) @purpose(use: {purpose}) {{
  customers(search: $s, first: 1, after: $after) {{
  edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
ACCESS_LOG = """query($id: ID) @purpose(use: ACCOUNTABILITY) { accessLog(subjectId: $id, first: 20) {
  edges { node { sequence staffMemberId subjectId purpose categories fields } } } }"""


async def _entries(services: Services) -> list[AccessLogEntry]:
    async with services.db.reader() as session:
        return list((await session.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.sequence)))).all())


async def _staff_id(client) -> str:  # noqa: ANN001
    return (await client.gql("{ me { id } }")).ok()["me"]["id"]


@pytest.mark.policy("P14")
async def test_p14_a_customer_search_needs_a_purpose_that_covers_what_it_compares(
    app: Starlette, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    support = await staff_client(app, services, "support")
    no_purpose = await support.gql(SEARCH.replace(" @purpose(use: {purpose})", "").format(), {"s": unique_email})
    assert no_purpose.codes == ["FORBIDDEN"] and no_purpose.data == {"customers": None}
    assert no_purpose.errors[0]["extensions"]["reason"] == "no_purpose_declared"
    listing = await support.gql(SEARCH.replace(" @purpose(use: {purpose})", "").format(), {})
    assert listing.codes == ["FORBIDDEN"]
    # Marketing staff may not borrow support's purpose to probe for an address…
    marketing = await staff_client(app, services, "marketing")
    borrowed = await marketing.gql(SEARCH.format(purpose="CUSTOMER_SERVICE"), {"s": unique_email})
    assert borrowed.codes == ["FORBIDDEN"] and borrowed.errors[0]["extensions"]["reason"] == "purpose_not_permitted"
    # …and bookkeeping does not cover e-mail addresses or names, so accounting cannot search by them.
    accounting = await staff_client(app, services, "accounting")
    for term in (unique_email, "Anna"):
        refused = await accounting.gql(SEARCH.format(purpose="BOOKKEEPING"), {"s": term})
        assert refused.codes == ["FORBIDDEN"] and refused.data == {"customers": None}
    assert await _entries(services) == []
    allowed = (await support.gql(SEARCH.format(purpose="CUSTOMER_SERVICE"), {"s": unique_email})).ok()
    assert len(allowed["customers"]["edges"]) == 1


@pytest.mark.policy("P14")
async def test_p14_a_search_is_logged_for_every_customer_it_returns_even_when_no_value_is_read(
    app: Starlette, services: Services, unique_email: str
) -> None:
    anna = await create_customer(services, unique_email, first_name="Anneli")
    annie = await create_customer(services, "annie." + unique_email, first_name="Annie")
    marketing = await staff_client(app, services, "marketing")
    found = (await marketing.gql(SEARCH.format(purpose="MARKETING"), {"s": unique_email.upper()})).ok()
    assert [e["node"]["id"] for e in found["customers"]["edges"]] == [encode_id("Customer", anna)]
    (entry,) = await _entries(services)
    assert (entry.subject_id, entry.purpose) == (anna, "marketing")
    assert encode_id("StaffMember", entry.staff_user_id) == await _staff_id(marketing)
    assert (entry.fields, entry.categories) == ("customers.email (searched)", "user.contact.email")

    support = await staff_client(app, services, "support")
    query = SEARCH.format(purpose="CUSTOMER_SERVICE").replace("first: 1", "first: 10")
    (await support.gql(query, {"s": "ann"})).ok()
    by_name = (await _entries(services))[1:]
    assert {e.subject_id for e in by_name} == {anna, annie}
    assert all(e.fields == "customers.first_name (searched),customers.last_name (searched)" for e in by_name)
    assert all(e.categories == "user.name.first,user.name.last" for e in by_name)
    # Whatever was typed is not kept.
    assert not any(unique_email in (e.fields + e.categories) for e in await _entries(services))


@pytest.mark.policy("P14")
async def test_p14_a_search_that_finds_nobody_is_logged_without_a_subject_and_the_dpo_sees_it(
    app: Starlette, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    marketing = await staff_client(app, services, "marketing")
    probe = (await marketing.gql(SEARCH.format(purpose="MARKETING"), {"s": "nobody." + unique_email})).ok()
    assert probe["customers"]["edges"] == []
    (entry,) = await _entries(services)
    assert entry.subject_id == NO_SUBJECT and entry.fields == "customers.email (searched)"
    dpo = await staff_client(app, services, "dpo")
    seen = (await dpo.gql(ACCESS_LOG, {"id": None})).ok()["accessLog"]["edges"]
    assert [(n["node"]["subjectId"], n["node"]["staffMemberId"], n["node"]["purpose"], n["node"]["fields"])
            for n in seen] == [(None, await _staff_id(marketing), "marketing", ["customers.email (searched)"])]


def _readable(cursor: str) -> str:
    """What anyone can read out of a cursor: its base64 decoded, as text."""
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", errors="replace")


@pytest.mark.policy("P14")
async def test_p14_cursors_handed_to_staff_show_no_personal_value_and_cannot_be_forged(
    app: Starlette, services: Services, unique_email: str
) -> None:
    ids = [await create_customer(services, f"{n}.{unique_email}") for n in ("a", "b", "c")]
    await seed_orders(services, ids[0], 3, lines=1)
    async with services.db.reader() as session:
        created = {(await session.get(Customer, i)).created_at for i in ids}  # type: ignore[union-attr]
    support = await staff_client(app, services, "support")
    query = SEARCH.format(purpose="CUSTOMER_SERVICE")
    seen, after = [], None
    while True:  # paging still works, one customer a page
        page = (await support.gql(query, {"after": after})).ok()["customers"]
        seen += [e["node"]["id"] for e in page["edges"]]
        for edge in page["edges"]:
            readable = _readable(edge["cursor"])
            assert not any(str(i) in readable for i in ids)
            assert not any(t.isoformat()[:16] in readable for t in created)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [encode_id("Customer", i) for i in ids]

    accounting = await staff_client(app, services, "accounting")
    orders = """query($after: String) @purpose(use: BOOKKEEPING) { orders(first: 2, after: $after) {
      edges { cursor node { placedAt } } pageInfo { endCursor } } }"""
    first = (await accounting.gql(orders)).ok()["orders"]
    for edge in first["edges"]:
        assert edge["node"]["placedAt"][:16] not in _readable(edge["cursor"])
    second = (await accounting.gql(orders, {"after": first["pageInfo"]["endCursor"]})).ok()["orders"]
    assert len(second["edges"]) == 1

    # A cursor written by hand (the old, readable form) is refused, not followed.
    forged = base64.urlsafe_b64encode(json.dumps(["customer", "2000-01-01T00:00:00+00:00", str(uuid.uuid4())])
                                      .encode()).decode().rstrip("=")
    refused = await support.gql(query, {"after": forged})
    assert refused.codes == ["BAD_USER_INPUT"] and refused.errors[0]["extensions"]["reason"] == "invalid_cursor"


ORDER = """query($id: ID!) @purpose(use: BOOKKEEPING) { order(id: $id) { customerId number
  contact { companyName organisationNumber } lines { sku } } }"""


@pytest.mark.policy("P14")
@pytest.mark.policy("P13")
async def test_p14_reads_of_an_erased_customers_retained_order_are_logged_under_the_order(
    app: Starlette, services: Services, unique_email: str
) -> None:
    from shop_privacy.rights.requests import Channel, RequestKind

    seeded = await seed_everything(services, unique_email)
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, seeded.customer_id, RequestKind.ERASURE, Channel.EMAIL)
    assert (await services.rights.run(request.id)).status == "completed"
    before = len(await _entries(services))

    accounting = await staff_client(app, services, "accounting")
    order_id = encode_id("Order", seeded.invoice_order_id)
    read = (await accounting.gql(ORDER, {"id": order_id})).ok()["order"]
    assert read["customerId"] is None and read["contact"]["organisationNumber"] == "556036-0793"
    (entry,) = (await _entries(services))[before:]
    assert entry.subject_id == seeded.invoice_order_id and entry.purpose == "bookkeeping"
    assert {"orders.order_number", "orders.company_org_number", "orders.company_name",
            "order_lines.sku"} <= set(entry.fields.split(","))
    # The list does it too, order by order.
    listed = """query @purpose(use: BOOKKEEPING) { orders(first: 10) { edges { node { id number } } } }"""
    (await accounting.gql(listed)).ok()
    assert {e.subject_id for e in (await _entries(services))[before + 1:]} == {
        seeded.invoice_order_id, seeded.card_order_id}

    dpo = await staff_client(app, services, "dpo")
    log = (await dpo.gql(ACCESS_LOG, {"id": order_id})).ok()["accessLog"]["edges"]
    assert [n["node"]["subjectId"] for n in log] == [order_id, order_id]
    assert "orders.company_org_number" in log[-1]["node"]["fields"]


CORRECT = """mutation($id: ID!, $input: CorrectCustomerInput!) @purpose(use: {purpose}) {{
  correctCustomer(id: $id, input: $input) {{ id }} }}"""


@pytest.mark.policy("P14")
@pytest.mark.policy("P23")
async def test_p14_staff_may_not_write_a_value_their_role_may_not_read_under_the_purpose(
    app: Starlette, services: Services, unique_email: str
) -> None:
    customer = await create_customer(services, unique_email, phone="+46701234567")
    target = encode_id("Customer", customer)
    support = await staff_client(app, services, "support")
    # Support reads no organisation number for customer service, so it sets none either (nor clears one).
    for value in ("556036-0793", None):
        refused = await support.gql(CORRECT.format(purpose="CUSTOMER_SERVICE"),
                                    {"id": target, "input": {"organisationNumber": value}})
        assert refused.codes == ["FORBIDDEN"] and refused.data == {"correctCustomer": None}
        assert refused.errors[0]["extensions"] == {"code": "FORBIDDEN", "reason": "field_not_readable",
                                                   "field": "organisationNumber"}
    # Accounting invoices: it reads the organisation number, so it may correct it, but sees the phone
    # number only masked, so it may not overwrite that.
    accounting = await staff_client(app, services, "accounting")
    phone = await accounting.gql(CORRECT.format(purpose="INVOICING"), {"id": target, "input": {"phone": "0709876543"}})
    assert phone.codes == ["FORBIDDEN"] and phone.errors[0]["extensions"]["field"] == "phone"
    (await accounting.gql(CORRECT.format(purpose="INVOICING"),
                          {"id": target, "input": {"organisationNumber": "556036-0793"}})).ok()
    async with services.db.reader() as session:
        row = await session.get(Customer, customer)
    assert row is not None and (row.company_org_number, row.phone) == ("556036-0793", "+46701234567")
