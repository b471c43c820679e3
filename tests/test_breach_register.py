"""The breach register (GDPR Art. 33, 34), which the DPO keeps (P14): what happened, what it touched, the
72 hours to notify IMY counted in real hours from discovery (across the changes of Swedish summer time),
who was told and why not; append-only and hash-chained like the access log (no policy row names breaches;
the DPO's accountability is P14's)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette

from shop_privacy import cli
from shop_privacy.breaches.register import BreachChanges, BreachFacts, DeadlineState
from shop_privacy.services import Services
from shop_privacy.storage.tables import BreachEntry
from shop_privacy.storage.types import utc_now

from .helpers import staff_client

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FIELDS = """id discoveredAt imyDeadline deadlineState hoursLeft description categories subjectsApprox recordsApprox
  consequences measures imyNotifiedAt imyNotNotifiedReason subjectsNotifiedAt subjectsNotNotifiedReason
  entries { sequence recordedAt recordedBy note }"""
RECORD = f"""mutation($input: RecordBreachInput!) @purpose(use: ACCOUNTABILITY) {{
  recordBreach(input: $input) {{ {FIELDS} }} }}"""
ADD = f"""mutation($id: ID!, $input: BreachEntryInput!) @purpose(use: ACCOUNTABILITY) {{
  addBreachEntry(id: $id, input: $input) {{ {FIELDS} }} }}"""
LIST = f"query @purpose(use: ACCOUNTABILITY) {{ breaches {{ {FIELDS} }} }}"


def _facts(discovered_at: datetime, **overrides: object) -> BreachFacts:
    values: dict[str, object] = {
        "discovered_at": discovered_at, "description": "A backup file was readable from the web server for a day.",
        "categories": ("user.contact.email", "user.name"), "subjects_approx": 120, "records_approx": 340,
        "consequences": "Phishing mails to the customers concerned.", "measures": "File removed; access logs read.",
    }
    values.update(overrides)
    return BreachFacts(**values)  # type: ignore[arg-type]


def _input(discovered_at: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "discoveredAt": discovered_at, "description": "A laptop with an order export was stolen.",
        "categories": ["user.contact.email", "user.behavior.purchase_history"], "subjectsApprox": 45,
        "recordsApprox": 90, "consequences": "The customers' orders could be read.",
        "measures": "The disk was encrypted; passwords changed.",
    }
    values.update(overrides)
    return values


def _reason(response: object) -> str:
    return response.errors[0]["extensions"]["reason"]  # type: ignore[attr-defined,no-any-return]


async def test_p14_the_72_hours_are_real_hours_across_the_spring_and_autumn_clock_changes(services: Services) -> None:
    dpo = uuid.uuid4()
    # Friday 10:00 in Stockholm (CET); the clocks go forward on Sunday: 72 hours later it is 11:00 there.
    spring = datetime(2026, 3, 27, 10, 0, tzinfo=STOCKHOLM)
    recorded = await services.breaches.record(dpo, _facts(spring), now=spring + timedelta(hours=1))
    assert recorded.imy_deadline == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert recorded.imy_deadline.astimezone(STOCKHOLM).hour == 11
    # Saturday 12:00 (CEST); the clocks go back on Sunday: 72 hours later it is 11:00 there.
    autumn = datetime(2026, 10, 24, 12, 0, tzinfo=STOCKHOLM)
    recorded = await services.breaches.record(dpo, _facts(autumn), now=autumn + timedelta(hours=1))
    assert recorded.imy_deadline == datetime(2026, 10, 27, 10, 0, tzinfo=UTC)
    assert recorded.imy_deadline.astimezone(STOCKHOLM).hour == 11

    stored = await services.breaches.get(recorded.id)  # read back: stored in UTC, the same instant
    assert stored is not None and stored.facts.discovered_at == autumn and stored.facts.discovered_at.tzinfo == UTC
    # Real hours are counted in UTC: Python adds to a Stockholm time by the wall clock, an hour off here.
    assert autumn + timedelta(hours=72) != recorded.imy_deadline
    start = autumn.astimezone(UTC)
    assert stored.deadline_state(start + timedelta(hours=71, minutes=59)) is DeadlineState.OPEN
    assert stored.hours_left(start + timedelta(hours=70)) == 2.0
    assert stored.deadline_state(start + timedelta(hours=72, minutes=1)) is DeadlineState.OVERDUE


async def test_p14_the_dpo_records_a_breach_and_updates_it_by_new_entries_that_leave_the_first_untouched(
    app: Starlette, services: Services
) -> None:
    dpo = await staff_client(app, services, "dpo")
    support = await staff_client(app, services, "support")
    discovered = utc_now() - timedelta(hours=10)
    assert (await support.gql(RECORD.replace("ACCOUNTABILITY", "CUSTOMER_SERVICE"),
                              {"input": _input(discovered.isoformat())})).codes == ["FORBIDDEN"]

    recorded = (await dpo.gql(RECORD, {"input": _input(discovered.isoformat())})).ok()["recordBreach"]
    assert recorded["deadlineState"] == "OPEN" and 61 < recorded["hoursLeft"] <= 62
    assert datetime.fromisoformat(recorded["imyDeadline"]) == discovered + timedelta(hours=72)
    assert [e["note"] for e in recorded["entries"]] == ["Recorded"]
    async with services.db.reader() as session:
        first = (await session.exec(text("SELECT * FROM breach_register"))).mappings().all()  # type: ignore[call-overload]

    told_at = utc_now() - timedelta(hours=1)
    updated = (await dpo.gql(ADD, {"id": recorded["id"], "input": {
        "note": "IMY notified through its e-service; more people concerned than first thought",
        "imyNotifiedAt": told_at.isoformat(), "subjectsApprox": 60,
        "subjectsNotNotifiedReason": "The disk was encrypted: no high risk to the people (Art. 34(3)(a))."}})).ok()[
        "addBreachEntry"]
    assert updated["deadlineState"] == "NOTIFIED" and updated["hoursLeft"] is None
    assert (updated["subjectsApprox"], updated["recordsApprox"]) == (60, 90)  # what was not given stays
    assert datetime.fromisoformat(updated["imyNotifiedAt"]) == told_at
    assert [e["sequence"] for e in updated["entries"]] == [1, 2]
    async with services.db.reader() as session:
        rows = (await session.exec(text("SELECT * FROM breach_register ORDER BY sequence"))).mappings().all()  # type: ignore[call-overload]
    assert len(rows) == 2 and dict(rows[0]) == dict(first[0])
    assert (await services.breaches.verify()).ok

    nothing = await dpo.gql(ADD, {"id": recorded["id"], "input": {"note": "again", "subjectsApprox": 60}})
    assert _reason(nothing) == "nothing_changed"
    listed = (await dpo.gql(LIST)).ok()["breaches"]
    assert [b["id"] for b in listed] == [recorded["id"]] and listed[0]["subjectsApprox"] == 60


async def test_p14_a_breach_entry_is_checked_before_anything_is_written(app: Starlette, services: Services) -> None:
    dpo = await staff_client(app, services, "dpo")
    past = (utc_now() - timedelta(days=1)).isoformat()
    cases = {
        "unknown_category": _input(past, categories=["user.contact.shoe_size"]),
        "time_zone_required": _input("2026-03-27T10:00:00"),
        "in_the_future": _input((utc_now() + timedelta(hours=2)).isoformat()),
        "negative_count": _input(past, subjectsApprox=-1),
        "told_and_not_told": _input(past, imyNotifiedAt=past, imyNotNotifiedReason="No risk"),
        "notified_before_discovery": _input(past, imyNotifiedAt=(utc_now() - timedelta(days=2)).isoformat()),
        "required": _input(past, description="  "),
    }
    for reason, values in cases.items():
        refused = await dpo.gql(RECORD, {"input": values})
        assert refused.codes == ["BAD_USER_INPUT"] and _reason(refused) == reason, (reason, refused.body)
    async with services.db.reader() as session:
        assert (await session.exec(text("SELECT count(*) FROM breach_register"))).one()[0] == 0  # type: ignore[call-overload]

    not_told = await services.breaches.record(uuid.uuid4(), _facts(utc_now() - timedelta(hours=80),
                                                                    imy_not_notified_reason="Unlikely to be a risk"))
    assert not_told.deadline_state(utc_now()) is DeadlineState.NOT_NOTIFIED
    told_late = await services.breaches.add_entry(uuid.uuid4(), not_told.id, BreachChanges(
        note="Notified after all", imy_notified_at=utc_now() - timedelta(minutes=5)))
    assert told_late.deadline_state(utc_now()) is DeadlineState.NOTIFIED_LATE
    assert told_late.facts.imy_not_notified_reason is None


async def test_p14_the_register_refuses_updates_and_deletes_and_shows_tampering(services: Services) -> None:
    recorded = await services.breaches.record(uuid.uuid4(), _facts(utc_now() - timedelta(hours=3)))
    await services.breaches.add_entry(uuid.uuid4(), recorded.id, BreachChanges(note="More measures",
                                                                              measures="Keys rotated."))
    assert not any(hasattr(services.breaches, name) for name in ("update", "delete", "remove", "edit"))
    for statement in ("UPDATE breach_register SET subjects_approx = 1", "DELETE FROM breach_register"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.db.transaction() as session:
                await session.exec(text(statement))  # type: ignore[call-overload]
    async with services.db.reader() as session:
        assert (await session.exec(text("SELECT count(*) FROM breach_register"))).one()[0] == 2  # type: ignore[call-overload]
    assert (await services.breaches.verify()).ok

    # Someone with the rights to switch the triggers off edits an entry: the chain shows it.
    async with services.db.transaction() as session:
        if services.db.url.is_sqlite:
            await session.exec(text("DROP TRIGGER breach_register_no_update"))  # type: ignore[call-overload]
        else:
            await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
        await session.exec(text("UPDATE breach_register SET subjects_approx = 1 WHERE sequence = 1"))  # type: ignore[call-overload]
    problems = (await services.breaches.verify()).problems
    assert "row 1 was changed after it was written" in problems
    if services.db.url.is_sqlite:
        assert "the append-only trigger breach_register_no_update is missing" in problems


async def _cli(*arguments: str) -> int:
    return await anyio.to_thread.run_sync(cli.main, ["breaches", *arguments])


async def test_p14_shop_privacy_breaches_records_lists_shows_and_adds_entries(
    services: Services, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    email = f"dpo.{uuid.uuid4().hex[:6]}@shop.example"
    await services.staff.create({"email": email, "display_name": "Dana", "role": "dpo",
                                 "password": "Personal-Lösen-För-Stab-7"})
    discovered = (utc_now() - timedelta(hours=80)).astimezone(STOCKHOLM).isoformat()
    base = ["--discovered-at", discovered, "--description", "Mail list exported to a wrong recipient",
            "--categories", "user.contact.email,user.name", "--subjects", "300", "--records", "300",
            "--consequences", "Unwanted mail", "--measures", "The recipient confirmed deletion"]
    assert await _cli("record", "--by", "support@shop.example", *base) == 1
    assert "no active data protection officer" in capsys.readouterr().err
    assert await _cli("record", "--by", email, *base, "--json") == 0
    breach_id = json.loads(capsys.readouterr().out)["id"]

    assert await _cli("list", "--json") == 1  # 80 hours and IMY not told: overdue, exit status 1
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["deadlineState"]) == (breach_id, "overdue") and listed["hoursLeft"] < 0

    assert await _cli("add-entry", breach_id, "--by", email, "--note", "IMY notified",
                      "--imy-notified-at", utc_now().isoformat()) == 0
    capsys.readouterr()
    assert await _cli("list") == 0
    assert "NOTIFIED_LATE" in capsys.readouterr().out
    assert await _cli("show", breach_id, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert [h["note"] for h in shown["history"]] == ["Recorded", "IMY notified"]
    assert await _cli("add-entry", breach_id, "--by", email, "--note", "x", "--categories", "user.nope") == 1
    assert "Unknown categories" in capsys.readouterr().err
    assert await _cli("verify") == 0
    assert "2 entries, intact" in capsys.readouterr().out
    async with services.db.reader() as session:
        assert len((await session.exec(text("SELECT id FROM breach_register"))).all()) == 2  # type: ignore[call-overload]
    assert BreachEntry.__table__.info.get("append_only") is True  # type: ignore[attr-defined]
