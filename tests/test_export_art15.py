"""The export answers all of GDPR Art. 15 (P22, P18): besides the data, who may receive each category
(from the recipients registry, whether or not anything went out yet) and which transfers leave the
EU/EEA on which safeguard, every right with how to use it here, and human section headings."""

from __future__ import annotations

import re
from html import unescape

import pytest

from shop_privacy.privacy.recipients import RECIPIENTS
from shop_privacy.rights.export_model import SECTION_LABELS
from shop_privacy.services import Services

from .rights_fixtures import export_of, seed_everything

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P22")]

RIGHTS = {"access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent",
          "complaint"}


def _visible_text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.policy("P18")
async def test_p22_p18_each_category_names_the_recipients_declared_for_it_and_transfers_outside_the_eu(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, html = await export_of(services, seeded.customer_id)
    by_category = {c["category"]: {r["recipient"]: r for r in c["recipients"]} for c in document["categories"]}

    mailchimp = by_category["user.contact.email"]["mailchimp"]
    assert mailchimp["country"] == "US" and mailchimp["outsideEuEea"] is True
    assert mailchimp["transfer"] == RECIPIENTS["mailchimp"].transfer_basis
    # Marketing recipients for names (P18), each with its own safeguard for the onward transfer.
    assert {"google_ads", "facebook", "printer"} <= set(by_category["user.name.first"])
    assert by_category["user.name.first"]["facebook"]["transfer"].startswith("EU/EEA; onward transfer")
    assert by_category["user.contact.phone_number"]["stripe"]["transfer"] is None
    # Only what a recipient is declared for, under the category's own purposes.
    assert "fortnox" in by_category["user.government_id.org_number"]
    assert "mailchimp" not in by_category["user.government_id.org_number"]
    assert by_category["user.authorization.credentials"] == {}
    # Declared recipients are listed whether or not anything went to them: nothing went to Mailchimp.
    assert "mailchimp" not in {d["recipient"] for d in document["recipients"]}

    outside = {"en": "outside the EU/EEA", "sv": "utanför EU/EES"}[document["language"]]
    shown = f"The Rocket Science Group LLC (Mailchimp) (US, {outside}): EU–US Data Privacy Framework"
    assert shown in _visible_text(html)


async def test_p22_every_right_is_listed_with_how_to_use_it_in_both_languages(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, html = await export_of(services, seeded.customer_id)
    rights = {r["right"]: r for r in document["rights"]}
    assert set(rights) == RIGHTS
    dpo, authority = services.settings.dpo_email, services.settings.supervisory_authority
    for right in rights.values():
        assert right["label"]["en"] and right["label"]["sv"] and right["how"]["en"] and right["how"]["sv"]
        assert "{" not in right["how"]["en"] + right["how"]["sv"]
    assert dpo in rights["restriction"]["how"]["sv"] and dpo in rights["objection"]["how"]["en"]
    assert rights["complaint"]["how"]["en"] == authority and rights["complaint"]["article"] == "Art. 77"

    language = document["language"]
    text = _visible_text(html)
    for right in rights.values():
        assert right["label"][language] in text
        assert right["how"][language].split(":")[0] in text


async def test_p22_no_section_of_the_export_is_headed_by_a_raw_table_name(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, html = await export_of(services, seeded.customer_id)
    text = _visible_text(html)
    for section in document["sections"]:
        if not section["name"].startswith("plugin:"):  # the package's own tables: written in both languages
            assert section["name"] in SECTION_LABELS, f"{section['name']}: give it a heading in SECTION_LABELS"
        for language in ("en", "sv"):
            label = section["label"][language]
            assert label != section["name"] and "_" not in label, (section["name"], language, label)
        assert section["label"][document["language"]] in text
