"""The record of processing (GDPR Art. 30; P01, P11, P17, P18): in Swedish and English, dated and
versioned, categories by their human labels, only the recipients the shop has configured, transfers only
to recipients outside the EU/EEA, the plugins' data included, and a retention cell per purpose that holds
that purpose's rules alone (which staff roles may use a purpose is a table of its own)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from shop_privacy import cli, ropa
from shop_privacy.privacy.recipients import RECIPIENTS, name_in
from shop_privacy.shop import Shop
from shop_privacy.storage.inventory import declared_columns

from .conftest import PRODUCTION_READY
from .support_shop import JsonLinesAdapter

pytestmark = [pytest.mark.policy("P01"), pytest.mark.policy("P02"), pytest.mark.policy("P11"),
              pytest.mark.policy("P17"), pytest.mark.policy("P18")]

# A shop that pays by card through Stripe and sends newsletters through Mailchimp, and uses no one else.
configured_shop = Shop(recipient_adapters={"stripe": JsonLinesAdapter(), "mailchimp": JsonLinesAdapter()})
DAY = date(2026, 11, 24)


def _record(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict:
    capsys.readouterr()
    assert cli.main(["ropa", "--format", "json", *arguments]) == 0
    return json.loads(capsys.readouterr().out)


def test_p01_the_record_is_swedish_or_english_dated_and_versioned_by_its_declarations(settings) -> None:  # noqa: ANN001
    columns = declared_columns()
    english = ropa.build(settings, columns, RECIPIENTS, language="en", generated_on=DAY)
    swedish = ropa.build(settings, columns, RECIPIENTS, language="sv", generated_on=DAY)
    # One version for the same declarations, whatever the language or the day.
    assert english["version"] == swedish["version"] == ropa.build(settings, columns, RECIPIENTS)["version"]
    assert len(english["version"]) == 12 and english["generatedOn"] == swedish["generatedOn"] == "2026-11-24"
    # Another declaration (here: one recipient fewer) is another version.
    fewer = {k: r for k, r in RECIPIENTS.items() if k != "printer"}
    assert ropa.build(settings, columns, fewer)["version"] != english["version"]

    sv, en = ropa.render(swedish, "md"), ropa.render(english, "md")
    assert sv.startswith("# Register över behandlingar (GDPR art. 30)") and "## Ändamål" in sv
    assert f"Version {english['version']}, skapad 2026-11-24." in sv
    assert f"Version {english['version']}, generated on 2026-11-24." in en and "## Purposes" in en
    assert f"Personuppgiftsansvarig: {settings.controller_name}" in sv and "IMY" in sv
    assert '<html lang="sv">' in ropa.render(swedish, "html")
    # Categories by their human labels, in the record's language; no dotted key in what people read.
    newsletter = {p["purpose"]: p for p in swedish["purposes"]}["newsletter"]
    assert newsletter["categoriesOfData"] == ["user", "user.contact.email", "user.name.first", "user.name.last"]
    assert {"E-postadress", "Förnamn", "Efternamn"} <= set(newsletter["categoriesOfDataLabels"])
    assert "E-mail address" in {p["purpose"]: p for p in english["purposes"]}["newsletter"]["categoriesOfDataLabels"]
    assert newsletter["legalBasisLabel"] == "Samtycke (GDPR art. 6.1 a)"
    for markdown in (sv, en):
        assert "user.contact.email" not in markdown and "user.name" not in markdown


def test_p01_p17_the_swedish_record_names_kinds_of_recipients_and_transfer_safeguards_in_swedish(settings) -> None:  # noqa: ANN001
    swedish = ropa.build(settings, declared_columns(), RECIPIENTS, language="sv", generated_on=DAY)
    markdown = ropa.render(swedish, "md")
    for english in ("Printers and media agencies", "Domain registries", "standard contractual clauses",
                    "onward transfer", "EU/EEA"):
        assert english not in markdown, english
    assert "Tryckerier och medieförmedlare" in {p["purpose"]: p for p in swedish["purposes"]}["marketing"]["recipients"]
    (mailchimp,) = swedish["transfersOutsideEuEea"]
    assert mailchimp["recipient"] == "The Rocket Science Group LLC (Mailchimp)"  # a company keeps its name
    assert "standardavtalsklausuler" in mailchimp["basis"]
    english = ropa.build(settings, declared_columns(), RECIPIENTS, language="en", generated_on=DAY)
    assert english["transfersOutsideEuEea"][0]["basis"] == RECIPIENTS["mailchimp"].transfer_basis


def test_p11_each_purpose_has_its_own_retention_cell_and_the_staff_rules_stay_out_of_the_customers(settings) -> None:  # noqa: ANN001
    record = ropa.build(settings, declared_columns(), RECIPIENTS, language="en")
    purposes = {p["purpose"]: p for p in record["purposes"]}
    staff_rule = "While the staff member works for the shop"
    assert [r["description"] for r in purposes["staff_administration"]["retention"]] == [staff_rule]
    for key, purpose in purposes.items():
        if key != "staff_administration":
            assert staff_rule not in [r["description"] for r in purpose["retention"]], key
        assert "staffRoles" not in purpose  # who may use a purpose is its own table
    assert {r["rule"] for r in purposes["bookkeeping"]["retention"]} >= {"bookkeeping"}
    assert {r["rule"] for r in purposes["newsletter"]["retention"]} == {"account", "outbox"}
    assert {a["purpose"]: a["staffRoles"] for a in record["staffAccess"]}["bookkeeping"] == ["accounting", "dpo"]
    markdown = ropa.render(record, "md")
    assert "## Staff access" in markdown and "Seven years after the end of the fiscal year" in markdown


def test_p17_only_the_recipients_the_shop_configured_and_transfers_only_outside_the_eu_eea(
    command_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in PRODUCTION_READY.items():
        monkeypatch.setenv("SHOP_PRIVACY_ENV" if name == "environment" else f"SHOP_PRIVACY_{name.upper()}", str(value))
    record = _record(capsys, "--app", f"{__name__}:configured_shop")
    assert {r["recipient"] for r in record["recipients"]} == {RECIPIENTS["stripe"].name, RECIPIENTS["mailchimp"].name}
    assert record["transfersOutsideEuEea"] == [{"recipient": RECIPIENTS["mailchimp"].name, "country": "US",
                                                "basis": RECIPIENTS["mailchimp"].transfer_basis}]
    purposes = {p["purpose"]: p for p in record["purposes"]}
    assert purposes["payment"]["recipients"] == [RECIPIENTS["stripe"].name]
    assert purposes["invoicing"]["recipients"] == []  # Fortnox is declared, but this shop does not use it
    assert record["controller"]["name"] == PRODUCTION_READY["controller_name"]


def test_p18_every_declared_recipient_in_development_but_transfers_only_for_those_outside_the_eu_eea(
    command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    record = _record(capsys, "--lang", "sv")
    assert {r["recipient"] for r in record["recipients"]} == {name_in(r, "sv") for r in RECIPIENTS.values()}
    # Google Ireland passes data on to the US under its own safeguards; the shop's transfer is to Ireland.
    assert [t["recipient"] for t in record["transfersOutsideEuEea"]] == [RECIPIENTS["mailchimp"].name]
    descriptions = {r["recipient"]: r["description"] for r in record["recipients"]}
    assert descriptions[RECIPIENTS["fortnox"].name] == "Fakturor till företag, och bokföringen"


def test_p02_a_plugins_data_purpose_recipient_and_rule_are_in_the_record(
    command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    record = _record(capsys, "--app", "tests.support_shop:shop", "--lang", "sv")
    (support,) = [p for p in record["purposes"] if p["purpose"] == "support_tickets"]
    assert support["description"] == "Besvara kundens supportärenden"
    assert support["categoriesOfDataLabels"] == ["What the person wrote to customer support"]  # no Swedish given
    assert support["recipients"] == ["Exempel Helpdesk AB"]
    assert support["retention"] == [{"rule": "support_ticket", "description": "Två år efter att ärendet stängdes"}]
    assert record["version"] != _record(capsys, "--lang", "sv")["version"]  # the plugin's declarations count
