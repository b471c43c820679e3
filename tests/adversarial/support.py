"""The adversarial suite's world: customer A, whose data nobody else may see, with values distinct
enough to be found anywhere in an answer; and the rule of what a staff role may see under a purpose,
taken from the declarations (not from the code under test)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from sqlalchemy import update
from sqlmodel import col

from shop_privacy.privacy.purposes import PURPOSES
from shop_privacy.services import Services
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.tables import Customer, Order

# Bounded and repeatable: the same examples on every run (CI and here); more with ADVERSARIAL_EXAMPLES.
EXAMPLES = int(os.environ.get("ADVERSARIAL_EXAMPLES", "200"))
bounded = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large, HealthCheck.filter_too_much])

# Customer A's values, one per personal column that holds them (on the account and copied onto orders).
SECRETS: dict[str, str] = {
    "email": "zebulonia.quixotefield@adversarial-example.se",
    "first_name": "Zebulonia",
    "last_name": "Quixotefield",
    "phone": "+46709876543",
    "company_name": "Quixotefield Konsult AB",
    "company_org_number": "559123-4567",
    "address_street": "Xylofonvägen 77",
    "address_postal_code": "987 65",
}


@dataclass(frozen=True)
class CustomerA:
    id: uuid.UUID


async def seed_customer_a(services: Services, password_hash: str) -> CustomerA:
    """A with a complete profile and an invoice order that copies every contact value."""
    values = {column: value for column, value in SECRETS.items()}
    async with services.db.transaction() as session:
        customer = Customer(password_hash=password_hash, address_city="Stockholm", **values)
        session.add(customer)
        await session.flush()
        session.add(Order(customer_id=customer.id, order_number="ADV-A-0001", idempotency_key="adversarial-a-1",
                          status="PAID", payment_method="INVOICE", currency="SEK", subtotal_net_minor=1000,
                          vat_minor=250, total_minor=1250, address_city="Stockholm", address_country="SE",
                          **{c: v for c, v in values.items()}))
    return CustomerA(customer.id)


async def restore_customer_a(services: Services, a: CustomerA) -> None:
    """A staff correction in one example must not change what the next one looks for."""
    async with services.db.transaction() as session:
        await session.exec(update(Customer).where(col(Customer.id) == a.id).values(**SECRETS))  # type: ignore[call-overload]


def leaked(answer: Any, secrets: dict[str, str]) -> list[str]:
    """The columns whose value of A appears anywhere in the answer (case-insensitively)."""
    text = json.dumps(answer, ensure_ascii=False).lower()
    return sorted(column for column, value in secrets.items() if value.lower() in text)


def visible_under(purpose: str) -> set[str]:
    """The columns of A a staff member acting under `purpose` may see in full, by the declarations:
    the purpose is declared for the column (on the account or an order), and it needs no consent
    (A gave none)."""
    if PURPOSES[purpose].needs_consent:
        return set()
    visible = set()
    for model in (Customer, Order):
        table = model.__table__  # type: ignore[attr-defined]
        for column in SECRETS:
            declaration = table.c[column].info.get(PRIVACY_INFO_KEY) if column in table.c else None
            if declaration is not None and purpose in getattr(declaration, "purposes", ()):
                visible.add(column)
    return visible


def role_purposes(role: str) -> list[str]:
    return sorted(key for key, purpose in PURPOSES.items() if role in {r.value for r in purpose.staff_roles})


def server_failures(status: int, body: Any) -> list[str]:
    """What an answer must never be: a 5xx, an internal error, or a raw Python message."""
    problems = []
    if status >= 500 and not _is_service_unavailable(body):
        problems.append(f"HTTP {status}")
    for error in (body or {}).get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "INTERNAL_SERVER_ERROR"):
            problems.append(f"{code}: {error.get('message')}")
        if "Traceback" in str(error.get("message")):
            problems.append("traceback in message")
    return problems


def _is_service_unavailable(body: Any) -> bool:
    errors = (body or {}).get("errors") or []
    return bool(errors) and all((e.get("extensions") or {}).get("code") == "SERVICE_UNAVAILABLE" for e in errors)
