"""`shop-privacy rights overdue`: the open data-subject requests within a week of their due date, and
those past it (GDPR Art. 12(3): one month from receipt). For the DPO's morning, or a monitoring cron
whose exit status says whether anything is late. Ids, kinds and dates only: no personal data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from ..storage.tables import SubjectRequest


@dataclass(frozen=True)
class DueRequest:
    request: SubjectRequest
    now: datetime

    @property
    def overdue(self) -> bool:
        return self.request.due_at < self.now

    @property
    def days(self) -> int:
        """Whole days past the due date (overdue) or left until it."""
        delta = (self.now - self.request.due_at) if self.overdue else (self.request.due_at - self.now)
        return delta.days

    @property
    def state(self) -> str:
        """What a reminder says of it: the DPO is reminded once a day per state."""
        return "overdue" if self.overdue else "due_soon"

    def line(self) -> str:
        """One line: ids, kinds and dates, nothing about who asked."""
        r = self.request
        when = f"OVERDUE by {self.days} day(s)" if self.overdue else f"due in {self.days} day(s)"
        extended = "  (extended)" if r.extended_at is not None else ""
        return (f"{r.id}  {r.kind:<13} {r.status:<9} {r.channel:<12} received {r.received_at:%Y-%m-%d}  "
                f"due {r.due_at:%Y-%m-%d}  {when}{extended}")

    def as_json(self) -> dict[str, Any]:
        r = self.request
        return {"id": str(r.id), "kind": r.kind, "status": r.status, "channel": r.channel,
                "receivedAt": r.received_at.isoformat(), "dueAt": r.due_at.isoformat(),
                "extended": r.extended_at is not None,
                "overdue": self.overdue, ("daysOverdue" if self.overdue else "daysLeft"): self.days}


def due_requests(requests: list[SubjectRequest], now: datetime) -> list[DueRequest]:
    return [DueRequest(request, now) for request in requests]


def window(days: int) -> timedelta:
    return timedelta(days=days)


def print_due(due: list[DueRequest], out: TextIO, *, as_json: bool, within_days: int) -> None:
    if as_json:
        out.write(json.dumps([d.as_json() for d in due], indent=2) + "\n")
        return
    if not due:
        out.write(f"no open request is due within {within_days} days\n")
        return
    for item in due:
        out.write(item.line() + "\n")
    out.write(summary_line(due, within_days) + "\n")


def summary_line(due: list[DueRequest], within_days: int) -> str:
    late = sum(item.overdue for item in due)
    return f"{len(due)} request(s) due within {within_days} days, {late} overdue"
