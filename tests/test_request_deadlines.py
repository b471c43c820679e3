"""Requests and their deadlines (P14, GDPR Art. 12(3)): the DPO extends a request once, within its first
month, by up to two months, and the customer is mailed why; the DPO is reminded of requests due soon and
late, once a day per state; `outbox status` counts them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import anyio
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy import cli
from shop_privacy.errors import BadUserInput
from shop_privacy.rights.requests import Channel, RequestKind, months_after, one_month_after
from shop_privacy.schema.core.ids import encode_id
from shop_privacy.services import Services
from shop_privacy.storage.tables import AccountMail, SubjectRequest
from shop_privacy.storage.types import utc_now

from .helpers import Outbox, create_customer, staff_client

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P14")]

EXTEND = """mutation($id: ID!, $input: ExtendRequestInput!) @purpose(use: ACCOUNTABILITY) {
  extendSubjectRequest(id: $id, input: $input) { id dueAt receivedAt extendedAt extensionReason } }"""


async def _request(services: Services, received_at: datetime, *, language: str = "sv",
                   kind: RequestKind = RequestKind.EXPORT) -> tuple[uuid.UUID, str]:
    email = f"req-{uuid.uuid4().hex[:10]}@exempel.se"
    customer = await create_customer(services, email, preferred_language=language)
    async with services.db.transaction() as session:
        request = services.rights.queue.open(session, customer, kind, Channel.LETTER, received_at=received_at,
                                             identity_verification="Signed letter")
    return request.id, email


async def _mails(services: Services, kind: str) -> list[AccountMail]:
    async with services.db.reader() as session:
        return list((await session.exec(select(AccountMail).where(AccountMail.kind == kind)
                                        .order_by(AccountMail.created_at))).all())


def test_p14_months_after_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_after(datetime(2026, 11, 30, 8, tzinfo=UTC), 3) == datetime(2027, 2, 28, 8, tzinfo=UTC)
    assert months_after(datetime(2026, 10, 15, tzinfo=UTC), 2) == datetime(2026, 12, 15, tzinfo=UTC)
    assert one_month_after(datetime(2026, 12, 31, tzinfo=UTC)) == datetime(2027, 1, 31, tzinfo=UTC)


async def test_p14_the_dpo_extends_a_request_once_and_the_customer_is_mailed_the_date_and_reason(
    app: Starlette, services: Services, outbox: Outbox, command_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str]
) -> None:
    received = utc_now() - timedelta(days=25)
    request_id, email = await _request(services, received, language="en")
    dpo = await staff_client(app, services, "dpo")
    support = await staff_client(app, services, "support")
    gid = encode_id("SubjectRequest", request_id)
    reason = "Your order history spans three systems that must be searched by hand."

    assert (await support.gql(EXTEND.replace("ACCOUNTABILITY", "CUSTOMER_SERVICE"),
                              {"id": gid, "input": {"months": 1, "reason": reason}})).codes == ["FORBIDDEN"]
    too_long = await dpo.gql(EXTEND, {"id": gid, "input": {"months": 3, "reason": reason}})
    assert too_long.codes == ["BAD_USER_INPUT"] and too_long.errors[0]["extensions"]["reason"] == "extension_too_long"
    no_reason = await dpo.gql(EXTEND, {"id": gid, "input": {"months": 1, "reason": "  "}})
    assert no_reason.errors[0]["extensions"]["reason"] == "reason_required"
    assert await _mails(services, "request_extended") == []  # refusals tell nobody anything

    extended = (await dpo.gql(EXTEND, {"id": gid, "input": {"months": 2, "reason": reason}})).ok()[
        "extendSubjectRequest"]
    expected_due = months_after(one_month_after(received), 2)
    assert datetime.fromisoformat(extended["dueAt"]) == expected_due
    assert extended["extensionReason"] == reason and extended["extendedAt"]

    (mail,) = await outbox.messages(email, "request_extended")
    body = mail.get_payload(decode=True).decode()
    assert mail["Subject"] == "We need more time for your request"
    assert f"{expected_due:%Y-%m-%d}" in body and reason in body and "supervisory authority" in body

    again = await dpo.gql(EXTEND, {"id": gid, "input": {"months": 1, "reason": reason}})
    assert again.codes == ["CONFLICT"] and again.errors[0]["extensions"]["reason"] == "already_extended"
    assert len(await _mails(services, "request_extended")) == 1

    # `rights overdue` counts from the extended date: no longer due within the week.
    assert await anyio.to_thread.run_sync(cli.main, ["rights", "overdue", "--json"]) == 0
    assert str(request_id) not in capsys.readouterr().out
    assert await anyio.to_thread.run_sync(cli.main, ["rights", "overdue", "--json", "--within-days", "70"]) == 0
    (listed,) = [i for i in json.loads(capsys.readouterr().out) if i["id"] == str(request_id)]
    assert listed["extended"] is True and datetime.fromisoformat(listed["dueAt"]) == expected_due


async def test_p14_an_extension_is_refused_after_the_first_month_and_is_mailed_in_swedish(
    services: Services, outbox: Outbox
) -> None:
    received = datetime(2026, 3, 10, 9, tzinfo=UTC)
    request_id, email = await _request(services, received, language="sv")
    dpo = uuid.uuid4()
    late = one_month_after(received) + timedelta(minutes=1)
    with pytest.raises(BadUserInput) as refused:
        await services.rights.deadlines.extend(dpo, request_id, 1, "Many systems", now=late)
    assert refused.value.details["reason"] == "first_month_over"

    request = await services.rights.deadlines.extend(dpo, request_id, 1, "Många system att söka i",
                                                     now=one_month_after(received) - timedelta(hours=1))
    assert request.due_at == datetime(2026, 5, 10, 9, tzinfo=UTC)
    (mail,) = await outbox.messages(email, "request_extended")
    body = mail.get_payload(decode=True).decode()
    assert str(make_header(decode_header(mail["Subject"]))) == "Vi behöver mer tid för din begäran"
    assert "2026-05-10" in body and "Många system att söka i" in body and "registerutdrag" in body


async def test_p14_the_dpo_is_reminded_once_a_day_per_request_and_state_without_personal_data(
    services: Services
) -> None:
    now = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
    soon, soon_email = await _request(services, now - timedelta(days=28))  # due in 2 days
    late, late_email = await _request(services, now - timedelta(days=40), kind=RequestKind.ERASURE)
    nearly, _ = await _request(services, months_after(now, -1) + timedelta(hours=3))  # due in 3 hours
    fresh, _ = await _request(services, now - timedelta(days=2))
    deadlines = services.rights.deadlines

    first = await deadlines.remind(now)
    assert {item.request.id for item in first.requests} == {soon, late, nearly}
    (mail,) = await _mails(services, "request_reminders")
    assert mail.recipient == services.settings.dpo_email and mail.customer_id is None
    assert str(soon) in mail.body and str(late) in mail.body and str(fresh) not in mail.body
    assert "OVERDUE" in mail.body and "erasure" in mail.body
    assert soon_email not in mail.body and late_email not in mail.body and "Anna" not in mail.body

    # The same day, the same states: nothing new, no mail.
    again = await deadlines.remind(now + timedelta(hours=2))
    assert again.requests == [] and again.mail_id is None
    # Later that day one of them passes its due date: its new state is news.
    changed = await deadlines.remind(now + timedelta(hours=4))
    assert [item.request.id for item in changed.requests] == [nearly] and changed.requests[0].overdue
    # The next day, every one still open is told of again; an answered one no longer.
    async with services.db.transaction() as session:
        answered = await session.get(SubjectRequest, soon)
        assert answered is not None
        answered.status, answered.completed_at = "completed", now
        session.add(answered)
    next_day = await deadlines.remind(now + timedelta(days=1))
    assert {item.request.id for item in next_day.requests} == {late, nearly}
    assert len(await _mails(services, "request_reminders")) == 3


async def test_p14_outbox_status_counts_requests_due_soon_and_overdue(
    services: Services, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await _request(services, utc_now() - timedelta(days=40))
    await _request(services, utc_now() - timedelta(days=27))
    await _request(services, utc_now() - timedelta(days=1))
    assert await anyio.to_thread.run_sync(cli.main, ["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "data-subject requests: 2 request(s) due within 7 days, 1 overdue" in out
    assert "@" not in out

    assert await anyio.to_thread.run_sync(cli.main, ["rights", "remind", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert await anyio.to_thread.run_sync(cli.main, ["rights", "remind"]) == 0
    assert "reminded the DPO of 0 request(s)" in capsys.readouterr().out
