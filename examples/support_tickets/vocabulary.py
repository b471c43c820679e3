"""The support-tickets plugin's own words: a data category, a purpose, a retention rule and a recipient,
each declared the way the package declares its own (see `shop_privacy/privacy/`)."""

from __future__ import annotations

from datetime import timedelta

from shop_privacy.privacy.purposes import LegalBasis, Purpose, StaffRole
from shop_privacy.privacy.recipients import EU_EEA, Recipient
from shop_privacy.privacy.retention import RetentionRule

# A category extends one the package has ("user"): export, erasure and the record group by its parents.
SUPPORT_REQUEST = "user.support_request"
CATEGORIES = {SUPPORT_REQUEST: "What the person wrote to customer support"}

SUPPORT = "support_tickets"
PURPOSE = Purpose(SUPPORT, LegalBasis.CONTRACT, frozenset({StaffRole.SUPPORT, StaffRole.DPO}),
                  "Answering the customer's support tickets", "Besvara kundens supportärenden")

TICKET_RETENTION = "support_ticket"
RETENTION_RULE = RetentionRule(TICKET_RETENTION, "closed_at", timedelta(days=2 * 365),
                               "Two years after the ticket was closed", "Två år efter att ärendet stängdes")

HELPDESK = Recipient(
    "helpdesk", "Exempel Helpdesk AB", (SUPPORT,), ("user.name", "user.contact.email", SUPPORT_REQUEST), "SE", EU_EEA,
    "The helpdesk system in which support answers tickets",
)
