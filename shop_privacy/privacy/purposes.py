"""Purposes of processing, each with its legal basis and the staff roles that may act under it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class LegalBasis(enum.StrEnum):
    """GDPR Art. 6(1)."""

    CONTRACT = "contract"  # (b)
    LEGAL_OBLIGATION = "legal_obligation"  # (c)
    CONSENT = "consent"  # (a)
    LEGITIMATE_INTEREST = "legitimate_interest"  # (f)


class StaffRole(enum.StrEnum):
    SUPPORT = "support"
    FULFILMENT = "fulfilment"
    ACCOUNTING = "accounting"
    MARKETING = "marketing"
    DPO = "dpo"


@dataclass(frozen=True)
class Purpose:
    key: str
    legal_basis: LegalBasis | None
    staff_roles: frozenset[StaffRole]
    description_en: str
    description_sv: str

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT


def _purpose(
    key: str, basis: LegalBasis, roles: set[StaffRole], en: str, sv: str
) -> tuple[str, Purpose]:
    return key, Purpose(key, basis, frozenset(roles), en, sv)


_R = StaffRole
PURPOSES: Mapping[str, Purpose] = dict(
    [
        _purpose("account", LegalBasis.CONTRACT, {_R.SUPPORT, _R.DPO},
                 "Running the customer's account", "Hantera kundens konto"),
        _purpose("order_fulfilment", LegalBasis.CONTRACT, {_R.FULFILMENT, _R.SUPPORT, _R.DPO},
                 "Delivering ordered services, including domain registration",
                 "Leverera beställda tjänster, även registrering av domännamn"),
        _purpose("payment", LegalBasis.CONTRACT, {_R.ACCOUNTING, _R.DPO},
                 "Taking payment for an order", "Ta betalt för en beställning"),
        _purpose("invoicing", LegalBasis.CONTRACT, {_R.ACCOUNTING, _R.DPO},
                 "Invoicing a company that pays by invoice (through Fortnox)",
                 "Fakturering av företag som betalar mot faktura (via Fortnox)"),
        _purpose("fraud_prevention", LegalBasis.LEGITIMATE_INTEREST, {_R.SUPPORT, _R.DPO},
                 "Preventing fraud and protecting accounts", "Förhindra bedrägerier och skydda konton"),
        _purpose("bookkeeping", LegalBasis.LEGAL_OBLIGATION, {_R.ACCOUNTING, _R.DPO},
                 "Keeping accounts under the Swedish Bookkeeping Act",
                 "Bokföring enligt bokföringslagen"),
        _purpose("customer_service", LegalBasis.CONTRACT, {_R.SUPPORT, _R.DPO},
                 "Answering the customer's questions", "Besvara kundens frågor"),
        _purpose("newsletter", LegalBasis.CONSENT, {_R.MARKETING},
                 "Sending newsletters the customer asked for", "Skicka nyhetsbrev som kunden beställt"),
        _purpose("marketing", LegalBasis.CONSENT, {_R.MARKETING},
                 "Marketing, campaigns and abandoned-cart reminders",
                 "Marknadsföring, kampanjer och påminnelser om varukorgar"),
        _purpose("personalisation", LegalBasis.CONSENT, {_R.MARKETING},
                 "Recommendations and shopping-list suggestions",
                 "Rekommendationer och förslag på inköpslistor"),
        _purpose("analytics", LegalBasis.CONSENT, {_R.MARKETING},
                 "Web analytics cookies", "Cookies för webbanalys"),
        _purpose("legal_obligation", LegalBasis.LEGAL_OBLIGATION, {_R.DPO},
                 "Disclosure required by law or a court order",
                 "Utlämnande som krävs enligt lag eller domstolsbeslut"),
        _purpose("accountability", LegalBasis.LEGAL_OBLIGATION, {_R.DPO},
                 "Showing who accessed personal data and why (GDPR Art. 5(2))",
                 "Visa vem som har tagit del av personuppgifter och varför (GDPR art. 5.2)"),
        _purpose("staff_administration", LegalBasis.CONTRACT, {_R.DPO},
                 "Running the staff's own accounts", "Hantera personalens egna konton"),
    ]
)
