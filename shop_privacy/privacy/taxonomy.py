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


# The same categories in Swedish, for the record of processing. A category without one (a plugin's)
# is shown with its English description.
CATEGORIES_SV: Mapping[str, str] = {
    "user": "Uppgifter om en person",
    "user.name": "Namn",
    "user.name.first": "Förnamn",
    "user.name.last": "Efternamn",
    "user.contact": "Kontaktuppgifter",
    "user.contact.email": "E-postadress",
    "user.contact.phone_number": "Telefonnummer",
    "user.contact.address": "Postadress",
    "user.contact.address.street": "Gatuadress",
    "user.contact.address.postal_code": "Postnummer",
    "user.contact.address.city": "Ort",
    "user.contact.address.country": "Land",
    "user.contact.organization": "Företaget personen företräder",
    "user.government_id": "Identitetsuppgifter utfärdade av en myndighet",
    "user.government_id.org_number": "Organisationsnummer (för en enskild firma ett personnummer)",
    "user.authorization": "Inloggningsuppgifter och inloggningar",
    "user.authorization.credentials": "Lösenordshash",
    "user.authorization.session": "Inloggningar",
    "user.device": "Uppgifter om personens enhet",
    "user.device.ip_address": "IP-adress",
    "user.behavior": "Vad personen gjort i butiken",
    "user.behavior.purchase_history": "Beställningar och beställda tjänster",
    "user.behavior.purchase_history.domain_name": "Domännamn registrerade för personen",
    "user.behavior.shopping_cart": "Varor i varukorgen",
    "user.financial": "Betalningsuppgifter",
    "user.financial.payment_reference": "Betalleverantörens referens för en betalning",
    "user.account": "Kontouppgifter",
    "user.account.preferences": "Inställningar som språk",
    "user.account.status": "Kontots status och datum",
    "user.consent": "Samtycken som lämnats och återkallats",
    "user.privacy": "Uppgifter butiken sparar för att visa att den hanterar personens uppgifter lagligt",
    "user.privacy.access_log": "Vem i personalen som läst personens uppgifter, när och varför",
    "user.privacy.rights_request": "Personens begäranden om att se, rätta eller radera sina uppgifter",
    "user.privacy.disclosure": "Till vem personens uppgifter lämnats ut, och varför",
    "user.privacy.rectification": "Vilka av personens uppgifter som rättats, när och av vem",
    "user.privacy.erasure": "Att personens uppgifter raderats, sparat så att en återställd säkerhetskopia inte "
                            "kan återskapa dem",
    "user.unique_id": "Identifierare som pekar ut en person",
    "user.unique_id.pseudonymous": "Nyckelhashar av en identifierare (e-post- eller IP-adress)",
}


def label(key: str, language: str) -> str:
    """A category's human label in `language` ("sv" or "en")."""
    if language == "sv" and key in CATEGORIES_SV:
        return CATEGORIES_SV[key]
    return CATEGORIES.get(key, key)
