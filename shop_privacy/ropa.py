"""The record of processing activities (GDPR Art. 30), generated from the declarations and the recipients
the shop has configured, so it cannot drift from what the software does:
`shop-privacy ropa --lang sv|en --format md|json|html`.

In Swedish or English; dated (the day it was generated) and versioned (a hash of everything it is made
from, so two records with the same version describe the same processing). Per purpose: its legal basis,
the categories of data (by their human labels), the recipients and how long the data is kept; which staff
roles may use a purpose is a table of its own. Only the recipients the shop has configured are listed,
and transfers only for recipients outside the EU/EEA.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from .privacy.declarations import PersonalData
from .privacy.inventory import DeclaredColumn
from .privacy.purposes import LEGAL_BASIS_LABELS, PURPOSES
from .privacy.recipients import Recipient, description_in, name_in, transfer_basis_in
from .privacy.retention import RETENTION_RULES
from .privacy.taxonomy import label
from .settings import Settings

LANGUAGES = ("sv", "en")

SUBJECTS: Mapping[str, Mapping[str, str]] = {
    "customer": {"en": "Customers (companies' contact persons, sole traders)",
                 "sv": "Kunder (kontaktpersoner hos företag, enskilda näringsidkare)"},
    "staff": {"en": "The shop's staff", "sv": "Butikens personal"},
    "visitor": {"en": "Visitors of the web shop (cookie consent only)",
                "sv": "Besökare i webbutiken (endast samtycke till kakor)"},
}
SECURITY_MEASURES: list[Mapping[str, str]] = [
    {"en": "TLS for all traffic; HSTS; cookies Secure, HttpOnly, SameSite=Lax, __Host- prefixed",
     "sv": "TLS för all trafik; HSTS; kakor Secure, HttpOnly, SameSite=Lax, med prefixet __Host-"},
    {"en": "Passwords hashed with argon2id (RFC 9106 parameters), rehashed when parameters change",
     "sv": "Lösenord hashas med argon2id (parametrar enligt RFC 9106) och hashas om när parametrarna ändras"},
    {"en": "Session, reset and download tokens random or signed, stored only as hashes; short staff sessions",
     "sv": "Inloggnings-, återställnings- och nedladdningsnycklar är slumpade eller signerade och sparas bara som "
           "hashar; korta inloggningar för personalen"},
    {"en": "Failed logins throttled per account and per address",
     "sv": "Misslyckade inloggningar begränsas per konto och per adress"},
    {"en": "Field-level access control: staff read personal data only under a declared purpose their role may "
           "use; marketing purposes only with live consent",
     "sv": "Behörighet per fält: personalen läser personuppgifter bara för ett deklarerat ändamål som deras roll "
           "får använda; marknadsföring bara med gällande samtycke"},
    {"en": "Every staff read of personal data in an append-only, hash-chained access log, checkpointed outside "
           "the database",
     "sv": "Varje gång personalen läser personuppgifter loggas det i en hashkedjad logg som bara kan läggas till, "
           "med kontrollpunkter utanför databasen"},
    {"en": "Card numbers are never accepted or stored; only the payment provider's reference is kept",
     "sv": "Kortnummer tas aldrig emot eller sparas; bara betalleverantörens referens sparas"},
    {"en": "Data minimisation on input: personal data no purpose needs is refused",
     "sv": "Uppgiftsminimering: personuppgifter som inget ändamål behöver tas inte emot"},
    {"en": "Retention enforced by a scheduled sweep derived from the declared rules; erasure on request, keeping "
           "only the accounting minimum and the proof of consent",
     "sv": "Lagringstiderna upprätthålls av en schemalagd rensning som följer de deklarerade reglerna; radering på "
           "begäran, där bara bokföringsunderlaget och beviset om samtycke sparas"},
]
TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Record of processing activities (GDPR Art. 30)",
        "controller": "Controller: {name}. Data protection officer: {dpo}. Supervisory authority: {authority}.",
        "version": "Version {version}, generated on {date}.",
        "subjects": "Categories of data subjects", "subject": "data subjects",
        "purposes": "Purposes", "purpose": "purpose", "basis": "legal basis", "consent": "consent",
        "data": "categories of data", "recipients": "Recipients", "recipient": "recipient", "kept": "kept",
        "staff": "Staff access", "roles": "staff roles who may use it",
        "country": "country", "description": "what for",
        "transfers": "Transfers outside the EU/EEA", "safeguards": "safeguards",
        "security": "Security measures", "measure": "measure",
        "yes": "yes", "no": "no", "none": "none",
    },
    "sv": {
        "title": "Register över behandlingar (GDPR art. 30)",
        "controller": "Personuppgiftsansvarig: {name}. Dataskyddsombud: {dpo}. Tillsynsmyndighet: {authority}.",
        "version": "Version {version}, skapad {date}.",
        "subjects": "Kategorier av registrerade", "subject": "registrerade",
        "purposes": "Ändamål", "purpose": "ändamål", "basis": "rättslig grund", "consent": "samtycke",
        "data": "kategorier av uppgifter", "recipients": "Mottagare", "recipient": "mottagare",
        "kept": "lagringstid", "staff": "Åtkomst för personalen", "roles": "roller i personalen som får använda det",
        "country": "land", "description": "till vad",
        "transfers": "Överföringar utanför EU/EES", "safeguards": "skyddsåtgärder",
        "security": "Säkerhetsåtgärder", "measure": "åtgärd",
        "yes": "ja", "no": "nej", "none": "inga",
    },
}


def version_of(columns: Iterable[DeclaredColumn], recipients: Mapping[str, Recipient]) -> str:
    """A hash of what the record is made from: every column's declaration, the purposes, the retention
    rules and the recipients. The same declarations give the same version, in any language, on any day."""
    content = {
        "columns": sorted([c.table, c.column, _canonical(c.declaration)] for c in columns),
        "purposes": _canonical(dict(PURPOSES)),
        "rules": _canonical(dict(RETENTION_RULES)),
        "recipients": _canonical(dict(recipients)),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _canonical(value: Any) -> Any:
    """JSON-able and the same in every process (sets sorted: their order follows string hashing)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def build(settings: Settings, columns: Iterable[DeclaredColumn], recipients: Mapping[str, Recipient], *,
          language: str = "en", generated_on: date | None = None) -> dict[str, Any]:
    """The record from the declared columns (the package's and the plugins') and the recipients the shop
    has configured (`recipients`: nothing else is listed)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: one of {', '.join(LANGUAGES)}")
    columns = list(columns)
    categories_of: dict[str, set[str]] = defaultdict(set)
    rules_of: dict[str, set[str]] = defaultdict(set)
    subjects: set[str] = {"visitor"}
    for column in columns:
        declaration = column.declaration
        if not isinstance(declaration, PersonalData):
            continue
        subjects.add("staff" if column.table.startswith("staff_") else "customer")
        for purpose in declaration.purposes:
            categories_of[purpose].update(declaration.categories)
            rules_of[purpose].add(declaration.retention)

    def described(key: str) -> str:
        purpose = PURPOSES[key]
        return purpose.description_sv if language == "sv" else purpose.description_en

    def names(recipient: Recipient) -> list[str]:
        return [label(c, language) for c in recipient.categories]

    return {
        "title": TEXT[language]["title"],
        "language": language,
        "version": version_of(columns, recipients),
        "generatedOn": (generated_on or datetime.now(UTC).date()).isoformat(),
        "controller": {"name": settings.controller_name, "dpoEmail": settings.dpo_email,
                       "supervisoryAuthority": settings.supervisory_authority},
        "categoriesOfDataSubjects": [SUBJECTS[s][language] for s in sorted(subjects)],
        "purposes": [
            {"purpose": key, "description": described(key), "legalBasis": str(purpose.legal_basis),
             "legalBasisLabel": LEGAL_BASIS_LABELS[purpose.legal_basis][language] if purpose.legal_basis else "",
             "needsConsent": purpose.needs_consent,
             "categoriesOfData": sorted(categories_of.get(key, ())),
             "categoriesOfDataLabels": [label(c, language) for c in sorted(categories_of.get(key, ()))],
             "recipients": sorted(name_in(r, language) for r in recipients.values() if key in r.purposes),
             # Only the rules of the data this purpose uses: a purpose's retention, not the staff's.
             "retention": [{"rule": rule, "description": RETENTION_RULES[rule].description[language]}
                           for rule in sorted(rules_of.get(key, ())) if rule in RETENTION_RULES]}
            for key, purpose in PURPOSES.items()
        ],
        "staffAccess": [{"purpose": key, "description": described(key), "staffRoles": sorted(purpose.staff_roles)}
                        for key, purpose in PURPOSES.items()],
        "recipients": [
            {"recipient": name_in(r, language), "purposes": list(r.purposes), "categories": list(r.categories),
             "categoryLabels": names(r), "country": r.country, "transferBasis": transfer_basis_in(r, language),
             "description": description_in(r, language)}
            for r in recipients.values()
        ],
        "transfersOutsideEuEea": [
            {"recipient": name_in(r, language), "country": r.country, "basis": transfer_basis_in(r, language)}
            for r in recipients.values() if r.outside_eu_eea
        ],
        "securityMeasures": [measure[language] for measure in SECURITY_MEASURES],
    }


def _tables(record: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The record as (heading, columns, rows): one layout, written as Markdown or HTML."""
    t = TEXT[record["language"]]
    return [
        (t["subjects"], [t["subject"]], [[s] for s in record["categoriesOfDataSubjects"]]),
        (t["purposes"], [t["purpose"], t["basis"], t["consent"], t["data"], t["recipients"].lower(), t["kept"]], [
            [f"{p['purpose']}: {p['description']}", p["legalBasisLabel"], t["yes"] if p["needsConsent"] else t["no"],
             "; ".join(p["categoriesOfDataLabels"]) or "–", ", ".join(p["recipients"]) or "–",
             " ".join(r["description"] + "." for r in p["retention"]) or "–"] for p in record["purposes"]]),
        (t["staff"], [t["purpose"], t["roles"]], [
            [f"{a['purpose']}: {a['description']}", ", ".join(a["staffRoles"]) or "–"] for a in record["staffAccess"]]),
        (t["recipients"], [t["recipient"], t["purpose"], t["data"], t["country"], t["description"]], [
            [r["recipient"], ", ".join(r["purposes"]), "; ".join(r["categoryLabels"]), r["country"], r["description"]]
            for r in record["recipients"]] or [[t["none"], "", "", "", ""]]),
        (t["transfers"], [t["recipient"], t["country"], t["safeguards"]], [
            [x["recipient"], x["country"], x["basis"]] for x in record["transfersOutsideEuEea"]]
         or [[t["none"], "", ""]]),
        (t["security"], [t["measure"]], [[m] for m in record["securityMeasures"]]),
    ]


def _preamble(record: dict[str, Any]) -> list[str]:
    t, c = TEXT[record["language"]], record["controller"]
    return [t["controller"].format(name=c["name"], dpo=c["dpoEmail"], authority=c["supervisoryAuthority"]),
            t["version"].format(version=record["version"], date=record["generatedOn"])]


def as_markdown(record: dict[str, Any]) -> str:
    lines = [f"# {record['title']}", "", *(line + "  " for line in _preamble(record))]
    for heading, columns, rows in _tables(record):
        lines += ["", f"## {heading}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def as_html(record: dict[str, Any]) -> str:
    parts = [f'<!DOCTYPE html><html lang="{record["language"]}"><head><meta charset="utf-8">'
             f"<title>{escape(record['title'])}</title>"
             "<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;width:100%;font-size:.85rem}td,th{border:1px solid #bbb;"
             "padding:.25rem;text-align:left;vertical-align:top}th{background:#eee}</style></head><body>",
             f"<h1>{escape(record['title'])}</h1>", *(f"<p>{escape(line)}</p>" for line in _preamble(record))]
    for heading, columns, rows in _tables(record):
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        parts.append(f"<h2>{escape(heading)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "".join(parts) + "</body></html>"


def render(record: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=False)
    return as_html(record) if fmt == "html" else as_markdown(record)
