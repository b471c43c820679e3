"""A worked plugin (docs/plugins.md): support tickets, with a personal free-text column, the shop's own
category, purpose, retention rule and recipient, its own table and migrations, and the retention step that
deletes tickets two years after they were closed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, and_

from shop_privacy.plugins import Plugin
from shop_privacy.retention.sweep import Step

from .tables import METADATA, SupportTicket
from .vocabulary import CATEGORIES, HELPDESK, PURPOSE, RETENTION_RULE, TICKET_RETENTION

_TICKETS = SupportTicket.__table__  # type: ignore[attr-defined]


def _closed_long_ago(now: datetime) -> ColumnElement[bool]:
    assert RETENTION_RULE.period is not None
    return and_(_TICKETS.c.closed_at.is_not(None), _TICKETS.c.closed_at < now - RETENTION_RULE.period)


SUPPORT_TICKETS = Plugin(
    name="support_tickets",
    metadata=METADATA,
    migrations=Path(__file__).parent / "migrations",
    categories=CATEGORIES,
    purposes=[PURPOSE],
    retention_rules=[RETENTION_RULE],
    recipients=[HELPDESK],
    retention_steps=[Step("closed_support_tickets", TICKET_RETENTION, _TICKETS, _closed_long_ago)],
)

__all__ = ["SUPPORT_TICKETS", "SupportTicket"]
