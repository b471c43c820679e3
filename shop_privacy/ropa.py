"""The record of processing activities (GDPR Art. 30), generated from the declarations and the recipient
registry, so it cannot drift from what the software does: `shop-privacy ropa --format md|json|html`."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .privacy.declarations import PersonalData
from .privacy.inventory import DeclaredColumn
from .privacy.purposes import PURPOSES
from .privacy.recipients import EU_EEA, Recipient
from .privacy.retention import RETENTION_RULES
from .settings import Settings

SUBJECTS = {"customer": "Customers (companies' contact persons, sole traders)",
            "staff": "The shop's staff", "visitor": "Visitors of the web shop (cookie consent only)"}
SECURITY_MEASURES = [
    "TLS for all traffic; HSTS; cookies Secure, HttpOnly, SameSite=Lax, __Host- prefixed",
    "Passwords hashed with argon2id (RFC 9106 parameters), rehashed when parameters change",
    "Session, reset and download tokens random or signed, stored only as hashes; short staff sessions",
    "Failed logins throttled per account and per address",
    "Field-level access control: staff read personal data only under a declared purpose their role may "
    "use; marketing purposes only with live consent",
    "Every staff read of personal data in an append-only, hash-chained access log",
    "Card numbers are never accepted or stored; only the payment provider's reference is kept",
    "Data minimisation on input: personal data no purpose needs is refused",
    "Retention enforced by a scheduled sweep; erasure on request, keeping only the accounting minimum",
]


def build(settings: Settings, columns: Iterable[DeclaredColumn], recipients: Mapping[str, Recipient]) -> dict[str, Any]:
    by_purpose: dict[str, set[str]] = defaultdict(set)
    retention_by_category: dict[str, set[str]] = defaultdict(set)
    subjects: set[str] = {"visitor"}
    for column in columns:
        declaration = column.declaration
        if not isinstance(declaration, PersonalData):
            continue
        subjects.add("staff" if column.table.startswith("staff_") else "customer")
        for purpose in declaration.purposes:
            by_purpose[purpose].update(declaration.categories)
        for category in declaration.categories:
            retention_by_category[category].add(declaration.retention)
    return {
        "controller": {"name": settings.controller_name, "dpoEmail": settings.dpo_email,
                       "supervisoryAuthority": settings.supervisory_authority},
        "categoriesOfDataSubjects": [SUBJECTS[s] for s in sorted(subjects)],
        "purposes": [
            {"purpose": key, "description": purpose.description_en, "legalBasis": str(purpose.legal_basis),
             "needsConsent": purpose.needs_consent, "staffRoles": sorted(purpose.staff_roles),
             "categoriesOfData": sorted(by_purpose.get(key, ())),
             "recipients": sorted(r.name for r in recipients.values() if key in r.purposes)}
            for key, purpose in PURPOSES.items()
        ],
        "recipients": [
            {"recipient": r.name, "purposes": list(r.purposes), "categories": list(r.categories),
             "country": r.country, "transferBasis": r.transfer_basis, "description": r.description}
            for r in recipients.values()
        ],
        "transfersOutsideEuEea": [
            {"recipient": r.name, "country": r.country, "basis": r.transfer_basis}
            for r in recipients.values() if r.transfer_basis != EU_EEA
        ],
        "retention": [
            {"category": category, "rules": [{"rule": rule, "description": RETENTION_RULES[rule].description_en}
                                             for rule in sorted(rules) if rule in RETENTION_RULES]}
            for category, rules in sorted(retention_by_category.items())
        ],
        "securityMeasures": SECURITY_MEASURES,
    }


def _tables(record: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The record as (heading, columns, rows): one layout, written as Markdown or HTML."""
    return [
        ("Categories of data subjects", ["data subjects"], [[s] for s in record["categoriesOfDataSubjects"]]),
        ("Purposes", ["purpose", "legal basis", "consent", "data", "recipients", "staff roles"], [
            [f"{p['purpose']}: {p['description']}", p["legalBasis"], "yes" if p["needsConsent"] else "no",
             ", ".join(p["categoriesOfData"]) or "–", ", ".join(p["recipients"]) or "–",
             ", ".join(p["staffRoles"]) or "–"] for p in record["purposes"]]),
        ("Recipients", ["recipient", "purposes", "data", "country", "transfer basis"], [
            [r["recipient"], ", ".join(r["purposes"]), ", ".join(r["categories"]), r["country"], r["transferBasis"]]
            for r in record["recipients"]]),
        ("Transfers outside the EU/EEA", ["recipient", "country", "basis"], [
            [t["recipient"], t["country"], t["basis"]] for t in record["transfersOutsideEuEea"]] or [["none", "", ""]]),
        ("Retention", ["category", "kept"], [
            [r["category"], "; ".join(x["description"] for x in r["rules"])] for r in record["retention"]]),
        ("Security measures", ["measure"], [[m] for m in record["securityMeasures"]]),
    ]


def _controller_line(record: dict[str, Any]) -> str:
    c = record["controller"]
    return (f"Controller: {c['name']}. Data protection officer: {c['dpoEmail']}. "
            f"Supervisory authority: {c['supervisoryAuthority']}.")


def as_markdown(record: dict[str, Any]) -> str:
    lines = ["# Record of processing activities (GDPR Art. 30)", "", _controller_line(record)]
    for heading, columns, rows in _tables(record):
        lines += ["", f"## {heading}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def as_html(record: dict[str, Any]) -> str:
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Record of processing</title>'
             "<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;width:100%;font-size:.85rem}td,th{border:1px solid #bbb;"
             "padding:.25rem;text-align:left;vertical-align:top}th{background:#eee}</style></head><body>",
             "<h1>Record of processing activities (GDPR Art. 30)</h1>", f"<p>{escape(_controller_line(record))}</p>"]
    for heading, columns, rows in _tables(record):
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        parts.append(f"<h2>{escape(heading)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "".join(parts) + "</body></html>"


def render(record: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=False)
    return as_html(record) if fmt == "html" else as_markdown(record)
