"""The access log: every staff read of personal data, append-only and tamper-evident (P14, P17)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import AccessLogEntry

from .helpers import create_customer, staff_client

pytestmark = pytest.mark.anyio

READ_CUSTOMER = """query($id: ID!) @purpose(use: CUSTOMER_SERVICE) { customer(id: $id) {
  email phone organisationNumber address { city } } }"""
ACCESS_LOG = """query($id: ID!) @purpose(use: ACCOUNTABILITY) { accessLog(subjectId: $id, first: 10) {
  edges { node { sequence staffMemberId purpose categories fields requestId } } } }"""


async def _entries(services: Services) -> list[AccessLogEntry]:
    async with services.db.reader() as session:
        return list((await session.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.sequence)))).all())


async def _customer(services: Services, email: str) -> uuid.UUID:
    return await create_customer(services, email, phone="+46701234567", company_org_number="556036-0793",
                                 address_city="Malmö")


@pytest.mark.policy("P14")
async def test_p14_each_staff_read_is_logged_with_who_whom_what_why_and_the_request(
    app: Starlette, services: Services, unique_email: str
) -> None:
    subject = await _customer(services, unique_email)
    support = await staff_client(app, services, "support")
    response = await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
    assert response.data["customer"]["email"] == unique_email
    (entry,) = await _entries(services)
    me = (await support.gql("{ me { id } }")).ok()["me"]["id"]
    assert encode_id("StaffMember", entry.staff_user_id) == me
    assert entry.subject_id == subject and entry.purpose == "customer_service"
    assert entry.request_id == response.headers["x-request-id"]
    assert set(entry.fields.split(",")) == {"customers.email", "customers.phone", "customers.address_city"}
    assert set(entry.categories.split(",")) == {"user.contact.email", "user.contact.phone_number",
                                                "user.contact.address.city"}
    assert "company_org_number" not in entry.fields  # denied values were not read


@pytest.mark.policy("P14")
async def test_p14_masked_reads_are_logged_as_masked_and_withheld_ones_not_at_all(
    app: Starlette, services: Services, unique_email: str
) -> None:
    subject = await _customer(services, unique_email)
    accounting = await staff_client(app, services, "accounting")
    query = READ_CUSTOMER.replace("CUSTOMER_SERVICE", "BOOKKEEPING")
    await accounting.gql(query, {"id": encode_id("Customer", subject)})
    (entry,) = await _entries(services)
    assert set(entry.fields.split(",")) == {"customers.company_org_number", "customers.phone (masked)",
                                            "customers.email (masked)", "customers.address_city (masked)"}
    # Nothing personal read: nothing logged.
    await accounting.gql("query($id: ID!) { customer(id: $id) { email } }",
                          {"id": encode_id("Customer", subject)})
    assert len(await _entries(services)) == 1


@pytest.mark.policy("P14")
async def test_p14_the_dpo_reads_the_log_per_subject_and_that_read_is_logged_too(
    app: Starlette, services: Services, unique_email: str
) -> None:
    subject = await _customer(services, unique_email)
    other = await _customer(services, "other." + unique_email)
    support = await staff_client(app, services, "support")
    for who in (subject, other, subject):
        await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", who)})
    dpo = await staff_client(app, services, "dpo")
    log = (await dpo.gql(ACCESS_LOG, {"id": encode_id("Customer", subject)})).ok()["accessLog"]["edges"]
    assert [edge["node"]["sequence"] for edge in log] == [3, 1]
    assert all(edge["node"]["purpose"] == "customer_service" for edge in log)
    assert "customers.email" in log[0]["node"]["fields"]
    entries = await _entries(services)
    assert entries[-1].subject_id == subject and entries[-1].purpose == "accountability"
    assert "access_log.fields" in entries[-1].fields
    assert (await support.gql(ACCESS_LOG, {"id": encode_id("Customer", subject)})).codes == ["FORBIDDEN"]


async def _tamper(services: Services, statement: str) -> None:
    """What someone with the database owner's rights could do: switch the append-only trigger off."""
    async with services.db.transaction() as session:
        if services.db.url.is_sqlite:
            await session.exec(text("DROP TRIGGER access_log_no_update"))  # type: ignore[call-overload]
            await session.exec(text("DROP TRIGGER access_log_no_delete"))  # type: ignore[call-overload]
        else:
            await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
        await session.exec(text(statement))  # type: ignore[call-overload]


@pytest.mark.policy("P14")
@pytest.mark.parametrize(("statement", "problem"), [
    ("UPDATE access_log SET purpose = 'marketing' WHERE sequence = 2", "row 2 was changed"),
    ("DELETE FROM access_log WHERE sequence = 2", "rows 2–2 are missing"),
])
async def test_p14_audit_verify_passes_and_detects_an_edited_or_deleted_row(
    app: Starlette, services: Services, unique_email: str, statement: str, problem: str
) -> None:
    subject = await _customer(services, unique_email)
    support = await staff_client(app, services, "support")
    for _ in range(3):
        await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
    verified = await services.access_log.verify(batch_size=2)
    assert verified.ok and verified.rows == 3
    await _tamper(services, statement)
    broken = await services.access_log.verify(batch_size=2)
    assert not broken.ok and any(problem in p for p in broken.problems), broken.problems


@pytest.mark.policy("P14")
async def test_p14_the_access_log_refuses_updates_and_deletes(
    app: Starlette, services: Services, unique_email: str
) -> None:
    subject = await _customer(services, unique_email)
    support = await staff_client(app, services, "support")
    await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
    for statement in ("UPDATE access_log SET purpose = 'x'", "DELETE FROM access_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.db.transaction() as session:
                await session.exec(text(statement))  # type: ignore[call-overload]
    assert len(await _entries(services)) == 1


@pytest.mark.policy("P14")
async def test_p14_the_audit_verify_command_exits_non_zero_on_tampering(
    app: Starlette, services: Services, settings, unique_email: str  # noqa: ANN001
) -> None:
    subject = await _customer(services, unique_email)
    support = await staff_client(app, services, "support")
    await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SHOP_PRIVACY_SECRET_KEY": settings.secret}
    command = [sys.executable, "-m", "shop_privacy.cli", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0 and "1 rows, intact" in intact.stdout, intact.stderr
    await _tamper(services, "UPDATE access_log SET fields = 'nothing'")
    tampered = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert tampered.returncode == 1 and "row 1 was changed" in tampered.stdout


async def test_a_failing_access_log_shows_nothing(
    app: Starlette, services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = await _customer(services, unique_email)
    support = await staff_client(app, services, "support")

    async def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.access_log, "append", broken)
    response = await support.gql(READ_CUSTOMER, {"id": encode_id("Customer", subject)})
    assert response.data is None and response.codes == ["INTERNAL_SERVER_ERROR"]
    assert unique_email not in str(response.body)
