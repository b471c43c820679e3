"""The access log's three-year rule (P11) with the checkpoint design (P14): the retention sweep cuts rows
past the rule from the log's oldest end and records the cut, signed, beside the checkpoints; the log then
still verifies from its first row left, while any other removal from its start still shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from shop_privacy.audit import checkpoints
from shop_privacy.audit.access_log import AccessRead
from shop_privacy.audit.checkpoints import CheckpointKey
from shop_privacy.services import Services, build_services
from shop_privacy.storage.tables import AccessLogEntry

from .conftest import make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P11"), pytest.mark.policy("P14")]

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
THREE_YEARS = timedelta(days=3 * 365)
DAY = timedelta(days=1)


def _read(index: int) -> AccessRead:
    return AccessRead(uuid.uuid4(), uuid.uuid4(), "customer_service", frozenset({"user.contact.email"}),
                      frozenset({"customers.email"}), f"req-{index}")


async def _sequences(services: Services) -> list[int]:
    async with services.db.reader() as session:
        return list((await session.exec(select(AccessLogEntry.sequence).order_by(col(AccessLogEntry.sequence)))).all())


async def _behind_the_triggers(services: Services, statement: str) -> None:
    async with services.db.transaction() as session:
        if services.db.url.is_sqlite:
            await session.exec(text("DROP TRIGGER access_log_no_delete"))  # type: ignore[call-overload]
        else:
            await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
        await session.exec(text(statement))  # type: ignore[call-overload]


async def test_p11_rows_past_three_years_are_cut_and_the_log_still_verifies_from_the_checkpoint_file(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "access-log-checkpoints.jsonl"
    services = build_services(make_settings(database_url, tmp_path, audit_checkpoint_file=path))
    try:
        moments = [NOW - THREE_YEARS - 2 * DAY, NOW - THREE_YEARS - DAY,  # past the rule
                   NOW - THREE_YEARS + DAY, NOW - THREE_YEARS + 2 * DAY, NOW - DAY]  # inside it
        for index, moment in enumerate(moments):
            await services.access_log.append([_read(index)], at=moment)

        dry = await services.retention.run(dry_run=True, now=NOW)
        assert dry.access_log_cut == 2 and await _sequences(services) == [1, 2, 3, 4, 5]
        result = await services.retention.run(now=NOW)
        assert (result.access_log_cut, result.access_log_checkpoint) == (2, 5)
        assert await _sequences(services) == [3, 4, 5]

        held = checkpoints.read(path, services.access_log.checkpoint_key)
        assert [(c.through, c.before) for c in held.cuts] == [(2, NOW - THREE_YEARS)]
        assert (await services.access_log.verify(checkpoints=held)).ok
        # Without the file the cut cannot be told from rows removed behind the log's back.
        bare = await services.access_log.verify()
        assert "rows 1–2 are missing" in bare.problems

        # Four years on, every row is past the rule: all but the newest go (the next row chains from it),
        # and the log, cut twice now, still verifies against the file.
        later = await services.retention.run(now=NOW + 4 * 365 * DAY)
        assert later.access_log_cut == 2 and await _sequences(services) == [5]
        held = checkpoints.read(path, services.access_log.checkpoint_key)
        assert [c.through for c in held.cuts] == [2, 4]
        assert (await services.access_log.verify(checkpoints=held)).ok
        await services.access_log.append([_read(6)])
        assert await _sequences(services) == [5, 6] and (await services.access_log.verify(checkpoints=held)).ok
    finally:
        await services.mailer.flush()
        await services.close()


async def test_p11_rows_removed_from_the_start_other_than_by_the_rule_or_a_forged_cut_still_show(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "access-log-checkpoints.jsonl"
    services = build_services(make_settings(database_url, tmp_path, audit_checkpoint_file=path))
    try:
        for index in range(4):
            await services.access_log.append([_read(index)], at=NOW - DAY * (10 - index))
        assert (await services.retention.run(now=NOW)).access_log_cut == 0  # nothing is past the rule yet
        # The two oldest rows, inside their three years, removed behind the triggers' back.
        await _behind_the_triggers(services, "DELETE FROM access_log WHERE sequence <= 2")
        held = checkpoints.read(path, services.access_log.checkpoint_key)
        assert "rows 1–2 are missing" in (await services.access_log.verify(checkpoints=held)).problems
        # A cut record that would explain them, signed with another key, is itself a problem.
        async with services.db.reader() as session:
            second = (await session.exec(select(AccessLogEntry).where(AccessLogEntry.sequence == 3))).one()
        forged = CheckpointKey("not-this-shops-secret-key-0123456789").sign_cut(2, second.previous_hash, NOW, NOW)
        checkpoints.append(path, forged)
        held = checkpoints.read(path, services.access_log.checkpoint_key)
        verification = await services.access_log.verify(checkpoints=held)
        assert held.cuts == () and not verification.ok
        assert any("not signed with this shop's key" in p for p in verification.problems)
        assert "rows 1–2 are missing" in verification.problems
        # And the sweep neither cuts nor blesses a log that does not verify.
        refused = await services.retention.run(now=NOW + 4 * 365 * DAY)
        assert (refused.access_log_checkpoint, refused.access_log_cut) == ("refused", 0)
        assert await _sequences(services) == [3, 4]
    finally:
        await services.mailer.flush()
        await services.close()


async def test_p11_without_a_checkpoint_file_the_log_is_not_cut(services: Services) -> None:
    await services.access_log.append([_read(0)], at=NOW - 2 * THREE_YEARS)
    await services.access_log.append([_read(1)], at=NOW - DAY)
    result = await services.retention.run(now=NOW)
    assert result.access_log_cut is None and await _sequences(services) == [1, 2]
