"""How the export is written (P22): each table's rows are read once for both files, the HTML's tables
wait compressed in memory, and the ids come out in their canonical form on either database."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest

from shop_privacy.rights.compressed_spool import CompressedSpool
from shop_privacy.services import Services
from shop_privacy.storage.types import dashed

from .helpers import count_statements
from .rights_fixtures import export_of, seed_everything

pytestmark = pytest.mark.anyio


@pytest.mark.policy("P22")
async def test_p22_the_export_reads_each_table_of_the_customer_once_for_data_json_and_index_html(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    with count_statements(services) as statements:
        document, html = await export_of(services, seeded.customer_id)
    # Each statement's own table (its first FROM), per read: every section's table once; the customer's row
    # once more before it (who the subject is), the disclosures once more for the recipients' summary.
    read_from = Counter(re.search(r"\bFROM (\w+)", s).group(1) for s in statements  # type: ignore[union-attr]
                        if re.match(r"\s*SELECT", s, re.IGNORECASE))
    assert read_from["orders"] == read_from["order_lines"] == read_from["consents"] == 1, read_from
    assert read_from["customers"] == read_from["disclosures"] == 2, read_from
    assert all(count == 1 for table, count in read_from.items() if table not in {"customers", "disclosures"})
    orders = {s["name"]: s for s in document["sections"]}["orders"]["rows"]
    numbers = [row["values"]["order_number"] for row in orders]
    assert numbers and all(number in html for number in numbers)


@pytest.mark.policy("P22")
async def test_p22_ids_in_the_export_are_canonical_uuids_on_either_database(
    services: Services, unique_email: str
) -> None:
    seeded = await seed_everything(services, unique_email)
    document, _ = await export_of(services, seeded.customer_id)
    sections = {s["name"]: s for s in document["sections"]}
    order_ids = {row["id"] for row in sections["orders"]["rows"]}
    assert {str(seeded.invoice_order_id), str(seeded.card_order_id)} <= order_ids
    for row in sections["order_lines"]["rows"]:
        assert str(uuid.UUID(row["parent"])) == row["parent"] and row["parent"] in order_ids


@pytest.mark.policy("P22")
def test_p22_the_spool_gives_back_exactly_what_was_written_compressed_meanwhile_and_only_once() -> None:
    spool = CompressedSpool()
    pieces = [f"<tr><td>Åsa {i}</td><td>{uuid.UUID(int=i)}</td></tr>" for i in range(20_000)]
    for piece in pieces:
        spool.write(piece)
    held = sum(len(block) for block in spool._compressed)
    text = "".join(pieces).encode()
    assert 0 < held < len(text) / 4  # compressed while it waits
    assert b"".join(spool.read()) == text
    with pytest.raises(ValueError, match="read"):
        spool.write("more")


def test_dashed_turns_stored_hex_into_the_canonical_form_and_leaves_the_rest() -> None:
    value = uuid.uuid4()
    assert dashed(value.hex) == str(value) and dashed(str(value)) == str(value) and dashed(None) is None
