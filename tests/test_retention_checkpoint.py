"""Each retention run leaves a signed checkpoint of the access log outside the database (P14), so a
cut of the log's tail after the run is still found."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from shop_privacy.audit import checkpoints
from shop_privacy.audit.access_log import AccessRead
from shop_privacy.services import build_services

from .conftest import make_settings
from .helpers import create_customer

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]


async def test_p14_a_retention_run_writes_a_checkpoint_that_a_later_cut_does_not_match(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, audit_checkpoint_file=tmp_path / "checkpoints")
    services = build_services(settings)
    try:
        customer = await create_customer(services, "kund.checkpoint@exempel.se")
        staff = await services.staff.create({"email": "dpo.checkpoint@shop.example", "display_name": "Dana",
                                             "role": "dpo", "password": "Personal-Lösen-För-Stab-7"})
        for index in range(3):
            await services.access_log.append([AccessRead(staff.id, customer, "customer_service",
                                                         frozenset({"user.contact.email"}),
                                                         frozenset({"customers.email"}), f"req-{index}")])
        result = await services.retention.run()
        assert result.access_log_checkpoint == 3
        held = checkpoints.read(tmp_path / "checkpoints", services.access_log.checkpoint_key)
        assert held.newest is not None and held.newest.sequence == 3
        assert (await services.access_log.verify(checkpoints=held)).ok
        # The newest row cut behind the triggers' back: the chain alone cannot tell, the checkpoint can.
        async with services.db.transaction() as session:
            if services.db.url.is_sqlite:
                await session.exec(text("DROP TRIGGER access_log_no_delete"))  # type: ignore[call-overload]
            else:
                await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
            await session.exec(text("DELETE FROM access_log WHERE sequence = 3"))  # type: ignore[call-overload]
        assert not (await services.access_log.verify(checkpoints=held)).ok
        assert (await services.retention.run()).access_log_checkpoint == "refused"
    finally:
        await services.mailer.flush()
        await services.close()
