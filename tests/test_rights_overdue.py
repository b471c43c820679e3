"""Requests and their deadlines (P14, GDPR Art. 12(3)): `shop-privacy rights overdue` lists the open
requests within a week of their due date and the overdue ones, soonest first, without personal data,
and its exit status says whether anything is late (for a monitoring cron)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import update

from shop_privacy import cli
from shop_privacy.rights.requests import Channel, RequestKind
from shop_privacy.services import Services
from shop_privacy.storage.tables import SubjectRequest
from shop_privacy.storage.types import utc_now

from .helpers import create_customer

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]


async def _request(services: Services, days_ago: int, kind: RequestKind = RequestKind.EXPORT) -> uuid.UUID:
    customer = await create_customer(services, f"req-{uuid.uuid4().hex[:10]}@exempel.se")
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, customer, kind, Channel.EMAIL,
                                             received_at=utc_now() - timedelta(days=days_ago))
    return request.id


async def _command(*arguments: str) -> int:
    """The command as an operator runs it: its own event loop, so in a thread beside the test's."""
    return await anyio.to_thread.run_sync(cli.main, ["rights", "overdue", *arguments])


async def test_p14_overdue_lists_late_and_nearly_due_requests_soonest_first_and_fails_while_one_is_late(
    services: Services, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    late = await _request(services, 40)
    nearly = await _request(services, 26, RequestKind.ERASURE)
    fresh = await _request(services, 2)
    answered = await _request(services, 45)
    async with services.db.transaction() as session:
        await session.exec(update(SubjectRequest).where(SubjectRequest.id == answered)  # type: ignore[call-overload]
                           .values(status="completed", completed_at=utc_now()))

    assert await _command("--json") == 1
    output = capsys.readouterr().out
    listed = json.loads(output)
    assert [item["id"] for item in listed] == [str(late), str(nearly)]
    assert listed[0]["overdue"] is True and listed[0]["daysOverdue"] >= 9
    assert listed[1]["overdue"] is False and 0 <= listed[1]["daysLeft"] <= 7
    assert str(fresh) not in output and "@" not in output  # nothing about who asked

    async with services.db.transaction() as session:
        await session.exec(update(SubjectRequest).where(SubjectRequest.id == late)  # type: ignore[call-overload]
                           .values(status="completed", completed_at=utc_now()))
    assert await _command() == 0
    text = capsys.readouterr().out
    assert str(nearly) in text and "1 request(s) due within 7 days, 0 overdue" in text
    assert await _command("--within-days", "40", "--json") == 0
    assert {item["id"] for item in json.loads(capsys.readouterr().out)} == {str(nearly), str(fresh)}
