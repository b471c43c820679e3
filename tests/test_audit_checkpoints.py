"""The access log's end, kept outside the database: signed checkpoints show a cut tail or a wiped table,
and `audit verify` checks that the append-only triggers are still in place (P14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from shop_privacy.audit import checkpoints
from shop_privacy.audit.access_log import AccessLog, AccessRead
from shop_privacy.services import Services
from shop_privacy.settings import Settings

pytestmark = pytest.mark.anyio


async def _reads(services: Services, count: int) -> None:
    """`count` rows in the log, as staff reads would append them."""
    await services.access_log.append([
        AccessRead(uuid.uuid4(), uuid.uuid4(), "customer_service", frozenset({"user.contact.email"}),
                   frozenset({"customers.email"}), f"req-{i}") for i in range(count)
    ])


@asynccontextmanager
async def _owner_rights(services: Services) -> AsyncIterator[object]:
    """A transaction in which the append-only triggers do not fire, as someone with the database owner's
    rights can have: on SQLite the triggers are dropped (and stay dropped: each test has its own file);
    on PostgreSQL `session_replication_role = replica` switches them off for this transaction only and
    leaves no trace in the catalogue, which is why only a checkpoint can show what it did."""
    async with services.db.transaction() as session:
        if services.db.url.is_sqlite:
            await session.exec(text("DROP TRIGGER IF EXISTS access_log_no_update"))  # type: ignore[call-overload]
            await session.exec(text("DROP TRIGGER IF EXISTS access_log_no_delete"))  # type: ignore[call-overload]
        else:
            await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
        yield session


async def _tamper(services: Services, *statements: str) -> None:
    async with _owner_rights(services) as session:
        for statement in statements:
            await session.exec(text(statement))  # type: ignore[call-overload]


def _chain_problems(problems: list[str]) -> list[str]:
    """The problems other than the triggers' (dropped on SQLite by `_tamper`, intact on PostgreSQL)."""
    return [p for p in problems if "trigger" not in p]


async def _verify(services: Services, path: Path):  # noqa: ANN202
    return await services.access_log.verify(
        batch_size=2, checkpoints=checkpoints.read(path, services.access_log.checkpoint_key))


@pytest.mark.policy("P14")
@pytest.mark.parametrize("cut", ["DELETE FROM access_log WHERE sequence > 3", "DELETE FROM access_log"],
                         ids=["newest rows", "every row"])
async def test_p14_a_checkpoint_shows_rows_cut_from_the_end_or_a_wiped_log(
    services: Services, tmp_path: Path, cut: str
) -> None:
    await _reads(services, 5)
    run = await services.access_log.checkpoint(tmp_path)
    assert run.verification.ok and run.written is not None and run.written.sequence == 5
    assert run.path == tmp_path / checkpoints.FILE_NAME
    assert (await _verify(services, tmp_path)).ok

    await _tamper(services, cut)
    # The chain alone cannot tell: what is left of it is whole.
    assert _chain_problems((await services.access_log.verify(batch_size=2)).problems) == []
    broken = await _verify(services, tmp_path)
    assert not broken.ok
    assert any("were cut" in p and "saw it reach row 5" in p for p in broken.problems), broken.problems


@pytest.mark.policy("P14")
async def test_p14_a_cut_tail_written_over_by_new_rows_differs_from_the_checkpoint(
    services: Services, tmp_path: Path
) -> None:
    """Rows 4 and 5 cut, then the app goes on appending: a whole chain, 5 rows again, but not the same."""
    await _reads(services, 5)
    await services.access_log.checkpoint(tmp_path)
    await _tamper(services, "DELETE FROM access_log WHERE sequence >= 4")
    await _reads(services, 2)
    assert _chain_problems((await services.access_log.verify(batch_size=2)).problems) == []
    broken = await _verify(services, tmp_path)
    assert broken.checkpoint is not None
    assert _chain_problems(broken.problems) == [f"row 5 is not the row the {broken.checkpoint.describe()} saw"]


@pytest.mark.policy("P14")
async def test_p14_the_row_a_checkpoint_saw_missing_inside_the_log_is_named(
    services: Services, tmp_path: Path
) -> None:
    await _reads(services, 5)
    await services.access_log.checkpoint(tmp_path)
    await _reads(services, 2)
    await _tamper(services, "DELETE FROM access_log WHERE sequence = 5")
    broken = await _verify(services, tmp_path)
    checkpoint = broken.checkpoint
    assert checkpoint is not None and checkpoint.sequence == 5
    assert f"row 5, which the {checkpoint.describe()} saw, is missing" in broken.problems
    assert "rows 5–5 are missing" in broken.problems


@pytest.mark.policy("P14")
async def test_p14_a_checkpoint_not_signed_with_the_shops_key_is_tampered(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await _reads(services, 3)
    run = await services.access_log.checkpoint(tmp_path)
    path = run.path
    line = json.loads(path.read_text())
    # Edited: claims fewer rows, so a cut of row 3 would pass unnoticed.
    path.write_text(json.dumps({**line, "sequence": 2}) + "\n")
    held = checkpoints.read(path, services.access_log.checkpoint_key)
    assert held.valid == () and held.forged_lines == (1,)
    verified = await services.access_log.verify(checkpoints=held)
    assert not verified.ok and any("line 1 of the checkpoint file is not signed" in p for p in verified.problems)
    # Signed with another shop's key: just as worthless.
    other = AccessLog(services.db, "another-secret-key-0123456789abcdef0123", 10)
    forged = other.checkpoint_key.sign(3, line["hash"], run.written.taken_at)
    path.unlink()
    checkpoints.append(path, forged)
    assert not (await _verify(services, tmp_path)).ok
    # Nothing is written on top of a file that does not verify.
    refused = await services.access_log.checkpoint(tmp_path)
    assert refused.written is None and len(path.read_text().splitlines()) == 1


async def _trigger_problems(services: Services) -> list[str]:
    return [p for p in (await services.access_log.verify()).problems if "trigger" in p]


@pytest.mark.policy("P14")
async def test_p14_verify_insists_on_the_append_only_triggers(services: Services) -> None:
    await _reads(services, 2)
    assert (await services.access_log.verify()).ok
    if services.db.url.is_sqlite:
        async with services.db.transaction() as session:
            await session.exec(text("DROP TRIGGER access_log_no_delete"))  # type: ignore[call-overload]
        assert await _trigger_problems(services) == ["the append-only trigger access_log_no_delete is missing"]
        async with services.db.transaction() as session:  # back by name, but refusing nothing
            await session.exec(text(  # type: ignore[call-overload]
                "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log WHEN 0 "
                "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"))
        assert await _trigger_problems(services) == ["the append-only trigger access_log_no_delete was altered"]
        return
    # PostgreSQL: the database is shared by the tests, so whatever is changed here is put back.
    try:
        async with services.db.transaction() as session:
            await session.exec(text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))  # type: ignore[call-overload]
        assert await _trigger_problems(services) == ["the append-only trigger access_log_append_only is disabled"]
        async with services.db.transaction() as session:
            await session.exec(text("ALTER TABLE access_log ENABLE REPLICA TRIGGER access_log_append_only"))  # type: ignore[call-overload]
        assert await _trigger_problems(services) == ["the append-only trigger access_log_append_only is disabled"]
        async with services.db.transaction() as session:
            await session.exec(text("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only"))  # type: ignore[call-overload]
            await session.exec(text(  # type: ignore[call-overload]
                "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RETURN NULL; END $$"))
        assert await _trigger_problems(services) == ["the append-only trigger access_log_append_only was altered"]
    finally:
        async with services.db.transaction() as session:
            await session.exec(text("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only"))  # type: ignore[call-overload]
            await session.exec(text(  # type: ignore[call-overload]
                "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "       BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$"))
    assert (await services.access_log.verify()).ok


def _audit(settings: Settings, *arguments: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SHOP_PRIVACY_")}
    env.update({"DATABASE_URL": database_url or settings.database_url, "SHOP_PRIVACY_SECRET_KEY": settings.secret})
    return subprocess.run([sys.executable, "-m", "shop_privacy.cli", "audit", *arguments], env=env,
                          capture_output=True, text=True, timeout=120)


def _not_checked(result: subprocess.CompletedProcess[str], reason: str) -> bool:
    lines = result.stderr.strip().splitlines()
    return (result.returncode == 2 and "Traceback" not in result.stderr and len(lines) == 1
            and lines[0].startswith("shop-privacy audit: not checked:") and reason in lines[0])


@pytest.mark.policy("P14")
async def test_p14_audit_commands_exit_0_when_intact_1_when_tampered_2_when_they_cannot_check(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await _reads(services, 4)
    folder = tmp_path / "off-host"
    folder.mkdir()
    written = _audit(settings, "checkpoint", "--file", str(folder))
    assert written.returncode == 0 and "checkpoint at row 4" in written.stdout, written.stderr
    intact = _audit(settings, "verify", "--checkpoint", str(folder))
    assert intact.returncode == 0 and "4 rows, intact; matches the checkpoint" in intact.stdout, intact.stderr

    await _tamper(services, "DELETE FROM access_log WHERE sequence > 2")
    cut = _audit(settings, "verify", "--checkpoint", str(folder))
    assert cut.returncode == 1 and "rows 3–4 were cut" in cut.stdout
    assert cut.stdout.strip().splitlines()[-1] == "access log: 2 rows, TAMPERED"
    refused = _audit(settings, "checkpoint", "--file", str(folder))
    assert refused.returncode == 1 and "no checkpoint written" in refused.stdout
    assert len((folder / checkpoints.FILE_NAME).read_text().splitlines()) == 1

    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text("{not json\n")
    (tmp_path / "empty.jsonl").write_text("")
    assert _not_checked(_audit(settings, "verify", "--checkpoint", str(tmp_path / "absent.jsonl")), "no such file")
    assert _not_checked(_audit(settings, "verify", "--checkpoint", str(garbled)), "line 1 is not a checkpoint")
    assert _not_checked(_audit(settings, "verify", "--checkpoint", str(tmp_path / "empty.jsonl")),
                        "holds no checkpoint")
    assert _not_checked(_audit(settings, "checkpoint"), "name the checkpoint file")
    for unreachable in (f"sqlite:///{tmp_path / 'no-such-folder' / 'shop.db'}",
                        "postgresql://postgres@127.0.0.1:1/nothing"):
        assert _not_checked(_audit(settings, "verify", database_url=unreachable), "cannot read the access log")
    bad = _audit(settings, "verify", "--no-such-option")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    help_text = _audit(settings, "verify", "--help").stdout
    assert all(f"  {status}  " in help_text for status in (0, 1, 2)) and "exit status" in help_text
