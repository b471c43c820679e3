"""Recipients outside the shop (P04, P05, P09, P17, P18): who may receive which categories, for which
purpose, where they are and on which basis data is transferred there. Nothing leaves except through
`disclose`, and `disclose` sends only what a recipient is declared for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .taxonomy import covers


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    purposes: tuple[str, ...]
    categories: tuple[str, ...]  # what it may receive (segment-aware: "user.contact.address" covers its parts)
    country: str  # ISO 3166
    transfer_basis: str  # why a transfer outside the EU/EEA is lawful; "EU/EEA" when it stays inside
    description: str

    @property
    def outside_eu_eea(self) -> bool:
        """The recipient itself is outside the EU/EEA: every disclosure to it is a transfer (Art. 44)."""
        return self.country not in EU_EEA_COUNTRIES

    @property
    def transfer(self) -> str | None:
        """What makes a transfer outside the EU/EEA lawful, the recipient's own or an onward one (e.g. an
        Irish company passing data to its US parent); None when the data stays inside."""
        return None if self.transfer_basis == EU_EEA else self.transfer_basis

    def may_receive(self, category: str, purposes: Iterable[str]) -> bool:
        """Declared to receive `category` (or a category that covers it) for one of `purposes`."""
        return bool(set(self.purposes) & set(purposes)) and any(covers(c, category) for c in self.categories)


EU_EEA = "EU/EEA"
# The EU's 27 and the EEA's Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2).
EU_EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})
_PAYER = ("user.name.first", "user.name.last", "user.contact.address", "user.contact.email",
          "user.contact.phone_number")


def _recipient(key: str, name: str, purposes: tuple[str, ...], categories: tuple[str, ...], country: str,
               transfer: str, description: str) -> tuple[str, Recipient]:
    return key, Recipient(key, name, purposes, categories, country, transfer, description)


RECIPIENTS: Mapping[str, Recipient] = dict([
    _recipient("stripe", "Stripe Payments Europe Ltd", ("payment", "fraud_prevention"), _PAYER, "IE", EU_EEA,
               "Card payments; completes the purchase and prevents fraud"),
    _recipient("paypal", "PayPal (Europe) S.à r.l. et Cie, S.C.A.", ("payment", "fraud_prevention"), _PAYER, "LU",
               EU_EEA, "Card and PayPal payments; completes the purchase and prevents fraud"),
    _recipient("swish", "Getswish AB", ("payment",), _PAYER, "SE", EU_EEA, "Swish payments"),
    _recipient("fortnox", "Fortnox AB", ("invoicing", "bookkeeping"),
               (*_PAYER, "user.contact.organization", "user.government_id.org_number"), "SE", EU_EEA,
               "Invoices to companies, and the accounts"),
    _recipient("mailchimp", "The Rocket Science Group LLC (Mailchimp)", ("newsletter",),
               ("user.name.first", "user.name.last", "user.contact.email"), "US",
               "EU–US Data Privacy Framework; standard contractual clauses", "Newsletters the customer asked for"),
    _recipient("google_analytics", "Google Ireland Ltd (Google Analytics)", ("analytics",),
               ("user.device.ip_address",), "IE", "EU/EEA; onward transfer under the EU–US Data Privacy Framework",
               "Web analytics, with cookie consent"),
    _recipient("google_ads", "Google Ireland Ltd (Google Ads)", ("marketing", "marketing_cookies"),
               ("user.name", "user.contact.email", "user.device"), "IE",
               "EU/EEA; onward transfer under the EU–US Data Privacy Framework", "Digital marketing, with consent"),
    _recipient("facebook", "Meta Platforms Ireland Ltd (Facebook)", ("marketing", "marketing_cookies"),
               ("user.name", "user.contact.email", "user.device"), "IE",
               "EU/EEA; onward transfer under the EU–US Data Privacy Framework", "Digital marketing, with consent"),
    _recipient("printer", "Printers and media agencies", ("marketing",), ("user.name", "user.contact.address"),
               "SE", EU_EEA, "Printed marketing, with consent"),
    _recipient("domain_registry", "Domain registries (Internetstiftelsen for .se/.nu, Verisign for .com)",
               ("order_fulfilment",), (*_PAYER, "user.contact.organization", "user.government_id.org_number",
                                       "user.behavior.purchase_history.domain_name"), "SE",
               "EU/EEA; .com under standard contractual clauses", "Registering domain names for the customer"),
])

# What each of the package's recipients is for, in Swedish (the record of processing in Swedish); a
# recipient without one (a plugin's) is described in English.
DESCRIPTIONS_SV: Mapping[str, str] = {
    "stripe": "Kortbetalningar; slutför köpet och förhindrar bedrägerier",
    "paypal": "Kort- och PayPal-betalningar; slutför köpet och förhindrar bedrägerier",
    "swish": "Swishbetalningar",
    "fortnox": "Fakturor till företag, och bokföringen",
    "mailchimp": "Nyhetsbrev som kunden beställt",
    "google_analytics": "Webbanalys, med samtycke till kakor",
    "google_ads": "Digital marknadsföring, med samtycke",
    "facebook": "Digital marknadsföring, med samtycke",
    "printer": "Tryckt marknadsföring, med samtycke",
    "domain_registry": "Registrering av domännamn åt kunden",
}

# Names that are a kind of recipient rather than a company's registered name, and the transfer bases, in
# Swedish (a company's own name stays as it is registered).
NAMES_SV: Mapping[str, str] = {
    "printer": "Tryckerier och medieförmedlare",
    "domain_registry": "Domänregister (Internetstiftelsen för .se/.nu, Verisign för .com)",
}
TRANSFER_BASES_SV: Mapping[str, str] = {
    EU_EEA: "EU/EES",
    "EU–US Data Privacy Framework; standard contractual clauses":
        "EU–US Data Privacy Framework (ramverket för dataskydd mellan EU och USA); standardavtalsklausuler",
    "EU/EEA; onward transfer under the EU–US Data Privacy Framework":
        "EU/EES; vidareöverföring enligt EU–US Data Privacy Framework",
    "EU/EEA; .com under standard contractual clauses": "EU/EES; .com enligt standardavtalsklausuler",
}


def name_in(recipient: Recipient, language: str) -> str:
    return NAMES_SV.get(recipient.key, recipient.name) if language == "sv" else recipient.name


def description_in(recipient: Recipient, language: str) -> str:
    """A plugin's recipient without a Swedish description is described in English."""
    return DESCRIPTIONS_SV.get(recipient.key, recipient.description) if language == "sv" else recipient.description


def transfer_basis_in(recipient: Recipient, language: str) -> str:
    basis = recipient.transfer_basis
    return TRANSFER_BASES_SV.get(basis, basis) if language == "sv" else basis
