"""Data categories as dotted keys in fideslang's style, matched segment by segment."""

from __future__ import annotations

from collections.abc import Mapping

# key -> English description. A key's parent keys are implied (and listed, for readability).
CATEGORIES: Mapping[str, str] = {
    "user": "Data about a person",
    "user.name": "A person's name",
    "user.name.first": "First (given) name",
    "user.name.last": "Last (family) name",
    "user.contact": "Contact details",
    "user.contact.email": "E-mail address",
    "user.contact.phone_number": "Telephone number",
    "user.contact.address": "Postal address",
    "user.contact.address.street": "Street address",
    "user.contact.address.postal_code": "Postal code",
    "user.contact.address.city": "City",
    "user.contact.address.country": "Country",
    "user.contact.organization": "The company the person acts for",
    "user.government_id": "Identifiers issued by an authority",
    "user.government_id.org_number": "Organisation number (for a sole trader, a personal identity number)",
    "user.authorization": "Credentials and sessions",
    "user.authorization.credentials": "Password hash",
    "user.authorization.session": "Login sessions",
    "user.device": "Data about the person's device",
    "user.device.ip_address": "IP address",
    "user.behavior": "What the person did in the shop",
    "user.behavior.purchase_history": "Orders and ordered services",
    "user.behavior.purchase_history.domain_name": "Domain names registered for the person",
    "user.behavior.shopping_cart": "Items kept in the cart",
    "user.financial": "Payment data",
    "user.financial.payment_reference": "The payment provider's reference for a payment",
    "user.account": "Account data",
    "user.account.preferences": "Preferences such as language",
    "user.account.status": "Account status and dates",
    "user.consent": "Consents given and withdrawn",
    "user.privacy": "Records the shop keeps to show it handles the person's data lawfully",
    "user.privacy.access_log": "Who on the staff read the person's data, when and why",
    "user.privacy.rights_request": "The person's requests to see, correct or erase their data",
    "user.privacy.disclosure": "To whom the person's data was disclosed, and why",
    "user.privacy.rectification": "Which of the person's data was corrected, when and by whom",
    "user.privacy.erasure": "That the person's data was erased, kept so a restored backup cannot bring it back",
    "user.unique_id": "Identifiers that single out a person",
    "user.unique_id.pseudonymous": "Keyed hashes of an identifier (e-mail or IP address)",
}


def segments(key: str) -> tuple[str, ...]:
    return tuple(key.split("."))


def covers(parent: str, child: str) -> bool:
    """`user.contact` covers `user.contact.email`; `user.con` covers nothing."""
    parent_segments = segments(parent)
    return segments(child)[: len(parent_segments)] == parent_segments


def is_known(key: str, known: Mapping[str, str] = CATEGORIES) -> bool:
    return key in known
