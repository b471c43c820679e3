"""A worked plugin (docs/plugins.md): support tickets, with a personal free-text column, the shop's own
category, purpose, retention rule and recipient, its own table (on which the retention rule that deletes
tickets two years after they were closed is declared) and migrations."""

from __future__ import annotations

from pathlib import Path

from shop_privacy.plugins import Plugin

from .tables import METADATA, SupportTicket
from .vocabulary import CATEGORIES, HELPDESK, PURPOSE, RETENTION_RULE

SUPPORT_TICKETS = Plugin(
    name="support_tickets",
    metadata=METADATA,
    migrations=Path(__file__).parent / "migrations",
    categories=CATEGORIES,
    purposes=[PURPOSE],
    retention_rules=[RETENTION_RULE],
    recipients=[HELPDESK],
)

__all__ = ["SUPPORT_TICKETS", "SupportTicket"]
