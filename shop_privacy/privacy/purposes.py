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


# Each basis as a reader of the record of processing or an export wants it named, in Swedish and English.
LEGAL_BASIS_LABELS: Mapping[LegalBasis, Mapping[str, str]] = {
    LegalBasis.CONTRACT: {"en": "Contract (GDPR Art. 6(1)(b))", "sv": "Avtal (GDPR art. 6.1 b)"},
    LegalBasis.LEGAL_OBLIGATION: {"en": "Legal obligation (GDPR Art. 6(1)(c))",
                                  "sv": "Rättslig förpliktelse (GDPR art. 6.1 c)"},
    LegalBasis.CONSENT: {"en": "Consent (GDPR Art. 6(1)(a))", "sv": "Samtycke (GDPR art. 6.1 a)"},
    LegalBasis.LEGITIMATE_INTEREST: {"en": "Legitimate interest (GDPR Art. 6(1)(f))",
                                     "sv": "Berättigat intresse (GDPR art. 6.1 f)"},
}


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
    # Direct marketing (GDPR Art. 21(2)-(3)): an objection to it stops every such purpose for good.
    direct_marketing: bool = False
    # May read any declared personal data of a customer, even one whose processing is restricted
    # (Art. 18(2): the establishment, exercise or defence of legal claims).
    reads_any_declared: bool = False

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT


def _purpose(
    key: str, basis: LegalBasis, roles: set[StaffRole], en: str, sv: str, *, direct_marketing: bool = False,
    reads_any_declared: bool = False,
) -> tuple[str, Purpose]:
    return key, Purpose(key, basis, frozenset(roles), en, sv, direct_marketing, reads_any_declared)


_R = StaffRole
LEGAL_CLAIMS = "legal_claims"
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
                 "Sending newsletters the customer asked for", "Skicka nyhetsbrev som kunden beställt",
                 direct_marketing=True),
        _purpose("marketing", LegalBasis.CONSENT, {_R.MARKETING},
                 "Marketing, campaigns and abandoned-cart reminders",
                 "Marknadsföring, kampanjer och påminnelser om varukorgar", direct_marketing=True),
        _purpose("personalisation", LegalBasis.CONSENT, {_R.MARKETING},
                 "Recommendations and shopping-list suggestions",
                 "Rekommendationer och förslag på inköpslistor", direct_marketing=True),
        _purpose("analytics", LegalBasis.CONSENT, {_R.MARKETING},
                 "Web analytics cookies", "Cookies för webbanalys"),
        # Separate from `marketing` (mails and campaigns): a consent to ad pixels is not one to mails.
        _purpose("marketing_cookies", LegalBasis.CONSENT, {_R.MARKETING},
                 "Marketing cookies and pixels (Google Ads, Facebook) in the browser",
                 "Marknadsföringscookies och pixlar (Google Ads, Facebook) i webbläsaren"),
        _purpose("legal_obligation", LegalBasis.LEGAL_OBLIGATION, {_R.DPO},
                 "Disclosure required by law or a court order",
                 "Utlämnande som krävs enligt lag eller domstolsbeslut"),
        _purpose("accountability", LegalBasis.LEGAL_OBLIGATION, {_R.DPO},
                 "Showing who accessed personal data and why (GDPR Art. 5(2))",
                 "Visa vem som har tagit del av personuppgifter och varför (GDPR art. 5.2)"),
        _purpose(LEGAL_CLAIMS, LegalBasis.LEGITIMATE_INTEREST, {_R.DPO},
                 "Establishing, exercising or defending legal claims (the only use of restricted data, "
                 "GDPR Art. 18(2))",
                 "Fastställa, göra gällande eller försvara rättsliga anspråk (det enda som begränsade "
                 "uppgifter används till, GDPR art. 18.2)", reads_any_declared=True),
        _purpose("staff_administration", LegalBasis.CONTRACT, {_R.DPO},
                 "Running the staff's own accounts", "Hantera personalens egna konton"),
    ]
)


def direct_marketing_purposes(purposes: Mapping[str, Purpose] = PURPOSES) -> frozenset[str]:
    """The purposes an objection to direct marketing stops (Art. 21(3)); derived from the declarations."""
    return frozenset(key for key, purpose in purposes.items() if purpose.direct_marketing)


DIRECT_MARKETING = "direct_marketing"


def objection_targets(purposes: Mapping[str, Purpose] = PURPOSES) -> tuple[str, ...]:
    """What a customer may object to (Art. 21): direct marketing as a whole (stopped at once), and each
    purpose resting on a legitimate interest (decided by the DPO), except defending legal claims."""
    legitimate = sorted(key for key, p in purposes.items()
                        if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST and not p.reads_any_declared)
    return (DIRECT_MARKETING, *legitimate)
