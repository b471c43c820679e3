"""The export (P22, P26, P28): complete by construction, versioned and validated, readable, and only
for the customer it was made for."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Uuid, insert, update
from starlette.applications import Starlette

import shop_privacy.rights
from shop_privacy.privacy.declarations import Erasure, PersonalData, personal
from shop_privacy.rights.export_model import SECRET_VALUE, ExportColumn, Exporter, ExportRow
from shop_privacy.services import Services
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.tables import AuthSession
from shop_privacy.storage.types import utc_now

from .conftest import client_for
from .helpers import PASSWORD, UPDATE_PROFILE, StorefrontClient, create_customer, login
from .rights_fixtures import export_of, seed_everything, unzip

pytestmark = pytest.mark.anyio

SCHEMA = json.loads((Path(shop_privacy.rights.__file__).parent / "export-v1.schema.json").read_text())
REQUEST_EXPORT = """mutation($password: String) { requestDataExport(password: $password) {
  downloadUrl expiresAt request { kind status } } }"""


def _validate(document: dict) -> None:
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(document)


@pytest.mark.policy("P22")
@pytest.mark.policy("P26")
async def test_p22_p26_every_declared_personal_value_of_the_subject_is_in_data_json(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, _ = await export_of(services, seeded.customer_id)
    _validate(document)
    sections = {section["name"]: section for section in document["sections"]}
    subject_map = services.rights.export._map
    checked = 0
    for entry in subject_map.tables:
        if not entry.personal:
            continue
        section = sections[entry.name]
        assert section["rows"], f"{entry.name}: the seeded row is not in the export"
        subject = await services.rights.export.subject(seeded.customer_id)
        async with services.db.reader() as session:
            stream = await session.stream(subject_map.rows(entry, subject))  # type: ignore[arg-type]
            rows = [row async for row in stream.mappings()]
        exported = {row["id"]: row["values"] for row in section["rows"]}
        assert len(exported) == len(rows)
        for column, declaration in entry.personal:
            stored_values = [row[column.name] for row in rows]
            assert any(v is not None for v in stored_values), f"{entry.name}.{column.name}: seed a value for it"
            for row, stored in zip(rows, stored_values, strict=True):
                shown = exported[str(row[entry.primary_key.name])][column.name]
                if stored is None:
                    assert shown is None
                elif "user.authorization.credentials" in declaration.categories:
                    assert shown == SECRET_VALUE
                else:
                    expected = stored.isoformat() if hasattr(stored, "isoformat") else \
                        str(stored) if isinstance(stored, uuid.UUID) else stored
                    assert shown == expected, (entry.name, column.name)
                checked += 1
    assert checked >= 60
    # Every category has its purposes with their legal basis, its source, its retention.
    for category in document["categories"]:
        assert category["purposes"] and category["sources"] and category["retention"]
    by_key = {c["category"]: c for c in document["categories"]}
    assert {p["legalBasis"] for p in by_key["user.device.ip_address"]["purposes"]} >= {"legitimate_interest"}
    assert by_key["user.device.ip_address"]["erasedBy"] is not None


@pytest.mark.policy("P22")
@pytest.mark.policy("P28")
async def test_p22_p28_index_html_is_readable_self_contained_and_names_the_authority(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, html = await export_of(services, seeded.customer_id)

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []
            self.external: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
            for name, value in attrs:
                if name in {"src", "href"} and value and not value.startswith(("#", "mailto:")):
                    self.external.append(value)
            if tag in {"script", "link", "img", "iframe"}:
                self.external.append(tag)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    collector = Collector()
    collector.feed(html)
    collector.close()
    text = " ".join(collector.text)
    assert collector.external == []
    assert html.startswith('<!DOCTYPE html><html lang="sv">')
    assert "Integritetsskyddsmyndigheten (IMY)" in text and services.settings.dpo_email in text
    assert services.settings.controller_name in text
    for section in document["sections"]:
        assert section["label"]["sv"] in text
        for column in section["columns"]:
            assert column["label"]["sv"] in text
        for row in section["rows"]:
            for value in row["values"].values():
                if isinstance(value, bool):
                    assert ("ja" if value else "nej") in text
                elif value is not None:
                    assert str(value) in text, value
    assert "@media print" in html


@pytest.mark.policy("P22")
async def test_p22_the_export_is_written_in_the_customers_language(services: Services, unique_email: str) -> None:
    seeded = await seed_everything(services, unique_email, language="en")
    document, html = await export_of(services, seeded.customer_id)
    assert document["language"] == "en"
    assert html.startswith('<!DOCTYPE html><html lang="en">') and "Your data at" in html


@pytest.mark.policy("P23")
async def test_p23_corrections_are_recorded_without_old_values_and_exported(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    customer_id = await create_customer(services, unique_email, phone="+46701234567")
    (await login(client, unique_email)).ok()
    response = await client.gql(UPDATE_PROFILE, {"input": {"phone": "+46707654321", "companyName": "Nytt AB"}})
    response.ok()
    document, _ = await export_of(services, customer_id)
    history = next(s for s in document["sections"] if s["name"] == "rectifications")["rows"]
    assert sorted(row["values"]["field"] for row in history) == ["customers.company_name", "customers.phone"]
    assert {row["values"]["changed_by"] for row in history} == {"customer"}
    assert "+46701234567" not in json.dumps(history)  # the old value is not kept


# The download link


@pytest.fixture
async def exporter_client(app: Starlette, services: Services, unique_email: str) -> AsyncIterator[StorefrontClient]:
    await seed_everything(services, unique_email)
    client = client_for(app)
    (await login(client, unique_email)).ok()
    yield client
    await client.http.aclose()


@pytest.mark.policy("P22")
async def test_p22_the_link_downloads_the_package_for_that_customers_session_only(
    app: Starlette, services: Services, exporter_client: StorefrontClient, unique_email: str
) -> None:
    issued = (await exporter_client.gql(REQUEST_EXPORT, {"password": PASSWORD})).ok()["requestDataExport"]
    assert issued["request"] == {"kind": "EXPORT", "status": "COMPLETED"}
    url = issued["downloadUrl"]
    response = await exporter_client.http.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    document, _ = unzip(response.content)
    _validate(document)

    anonymous = client_for(app)
    assert (await anonymous.http.get(url)).status_code == 401
    await create_customer(services, "other." + unique_email)
    (await login(anonymous, "other." + unique_email)).ok()
    other = await anonymous.http.get(url)
    assert other.status_code == 404 and other.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    tampered = await exporter_client.http.get(url[:-3] + ("abc" if not url.endswith("abc") else "xyz"))
    assert tampered.status_code == 400 and tampered.json()["errors"][0]["extensions"]["reason"] == "token_invalid"
    await anonymous.http.aclose()


@pytest.mark.policy("P26")
async def test_p26_the_downloaded_data_json_is_machine_readable_versioned_and_valid_against_the_published_schema(
    exporter_client: StorefrontClient, unique_email: str
) -> None:
    (await exporter_client.gql(UPDATE_PROFILE, {"input": {"phone": "+46709876543"}})).ok()
    issued = (await exporter_client.gql(REQUEST_EXPORT, {"password": PASSWORD})).ok()["requestDataExport"]
    document, _ = unzip((await exporter_client.http.get(issued["downloadUrl"])).content)
    _validate(document)  # the schema shipped in the package, the one docs/ points readers to
    assert (document["format"], document["version"]) == (SCHEMA["properties"]["format"]["const"], 1)
    customers = next(s for s in document["sections"] if s["name"] == "customers")
    values = customers["rows"][0]["values"]
    assert values["email"] == unique_email and values["phone"] == "+46709876543"
    # Each column says what it is, so another service can read it without this package.
    assert all({"name", "categories", "purposes", "retention"} <= set(c) for c in customers["columns"])


@pytest.mark.policy("P22")
async def test_p22_the_link_is_refused_after_it_expires(
    exporter_client: StorefrontClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    url = (await exporter_client.gql(REQUEST_EXPORT, {"password": PASSWORD})).ok()["requestDataExport"]["downloadUrl"]
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: real(self) + 7 * 24 * 3600 + 60)
    expired = await exporter_client.http.get(url)
    assert expired.status_code == 400 and expired.json()["errors"][0]["extensions"]["reason"] == "token_expired"


@pytest.mark.policy("P22")
async def test_p22_an_export_needs_the_password_given_in_the_last_ten_minutes(
    exporter_client: StorefrontClient, services: Services
) -> None:
    assert (await exporter_client.gql(REQUEST_EXPORT)).ok()  # just logged in
    async with services.db.transaction() as session:
        await session.exec(update(AuthSession).values(authenticated_at=utc_now() - timedelta(minutes=11)))
    stale = await exporter_client.gql(REQUEST_EXPORT)
    assert stale.codes == ["REAUTHENTICATION_REQUIRED"]
    assert (await exporter_client.gql(REQUEST_EXPORT, {"password": "wrong-password-1"})).codes == [
        "INVALID_CREDENTIALS"]
    assert (await exporter_client.gql(REQUEST_EXPORT, {"password": PASSWORD})).ok()
    assert (await exporter_client.gql(REQUEST_EXPORT)).ok()  # the password was just given again


# Plugins


LOYALTY = MetaData()
loyalty_points = Table(
    "loyalty_points", LOYALTY,
    Column("id", Uuid, primary_key=True, default=uuid.uuid4, info={PRIVACY_INFO_KEY: None}),
    Column("customer_id", Uuid, nullable=False),
    Column("points", Integer, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("earned_at", DateTime(timezone=True), nullable=False),
)


def _declare_loyalty() -> None:
    from shop_privacy.privacy.declarations import NOT_PERSONAL, SubjectLink

    def points(en: str, sv: str) -> PersonalData:
        return personal(categories="user.behavior.purchase_history", purposes=("marketing",),
                        retention="account", erasure=Erasure.DELETE, en=en, sv=sv, source="system")

    loyalty_points.c.id.info[PRIVACY_INFO_KEY] = NOT_PERSONAL
    loyalty_points.c.customer_id.info[PRIVACY_INFO_KEY] = SubjectLink()
    loyalty_points.c.points.info[PRIVACY_INFO_KEY] = points("Bonus points", "Bonuspoäng")
    loyalty_points.c.tier.info[PRIVACY_INFO_KEY] = points("Member level", "Medlemsnivå")
    loyalty_points.c.earned_at.info[PRIVACY_INFO_KEY] = points("Earned", "Intjänat")


_declare_loyalty()


async def _newsletter_history(session, subject) -> AsyncIterator[ExportRow]:  # noqa: ANN001
    yield ExportRow(id="mc-1", parent=None, values={"list": "Nyhetsbrev november"}, erase_on={"account": None})


NEWSLETTER_EXPORTER = Exporter(
    name="mailchimp", label={"en": "Newsletters sent", "sv": "Skickade nyhetsbrev"},
    columns=(ExportColumn("list", personal(categories="user.contact.email", purposes="newsletter",
                                           retention="account", erasure=Erasure.DELETE, en="Mailing",
                                           sv="Utskick", source="system")),),
    rows=_newsletter_history,
)


async def test_p22_a_plugins_own_table_and_exporter_are_in_the_export(
    database_url: str, tmp_path: Path, unique_email: str
) -> None:
    from shop_privacy.plugins import Plugin
    from shop_privacy.services import build_services
    from shop_privacy.storage.urls import DatabaseURL

    from .conftest import make_settings

    plugin = Plugin("loyalty", metadata=LOYALTY, exporters=[NEWSLETTER_EXPORTER])
    services = build_services(make_settings(database_url, tmp_path), plugins=[plugin])
    sync = DatabaseURL.parse(database_url).sync_url
    from sqlalchemy import create_engine

    engine = create_engine(sync)
    LOYALTY.create_all(engine)
    try:
        customer_id = await create_customer(services, unique_email)
        async with services.db.transaction() as session:
            await session.exec(insert(loyalty_points).values(  # type: ignore[call-overload]
                id=uuid.uuid4(), customer_id=customer_id, points=4711, tier="guld", earned_at=utc_now()))
        document, html = await export_of(services, customer_id)
        _validate(document)
        sections = {s["name"]: s for s in document["sections"]}
        assert sections["loyalty_points"]["rows"][0]["values"]["points"] == 4711
        assert sections["plugin:mailchimp"]["rows"][0]["values"] == {"list": "Nyhetsbrev november"}
        assert "Bonuspoäng" in html and "Skickade nyhetsbrev" in html
    finally:
        LOYALTY.drop_all(engine)
        engine.dispose()
        await services.close()


def test_a_personal_table_nothing_ties_to_a_subject_stops_the_start() -> None:
    from sqlmodel import SQLModel

    from shop_privacy.privacy.inventory import InventoryError
    from shop_privacy.rights.subject_map import SubjectMap

    orphan = MetaData()
    Table("notes", orphan, Column("id", Integer, primary_key=True, info={PRIVACY_INFO_KEY: None}),
          Column("text", String, info={PRIVACY_INFO_KEY: personal(
              categories="user.name", purposes="account", retention="account", erasure=Erasure.DELETE,
              en="Note", sv="Anteckning")}))
    with pytest.raises(InventoryError, match="notes: holds personal data but nothing ties"):
        SubjectMap([SQLModel.metadata, orphan], {})
