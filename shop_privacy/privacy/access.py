"""Who may see a declared value, for which purpose: the decision at the heart of enforcement.

Pure: the GraphQL layer asks, per field and row, and applies the answer.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .declarations import Mask, PersonalData
from .purposes import PURPOSES, LegalBasis, Purpose, StaffRole


class Outcome(enum.Enum):
    ALLOW = "allow"
    MASK = "mask"
    DENY = "deny"


class Reason(enum.StrEnum):
    PURPOSE_NOT_PERMITTED = "purpose_not_permitted"
    NO_CONSENT = "no_consent"
    NO_PURPOSE_DECLARED = "no_purpose_declared"
    NOT_THE_SUBJECT = "not_the_subject"
    RESTRICTED = "restricted"  # the subject had the processing restricted (Art. 18)
    OBJECTED = "objected"  # the subject objected to this purpose (Art. 21), and it stopped


@dataclass(frozen=True)
class ProcessingLimits:
    """What a data subject has stopped: all use but storage (a restriction), or single purposes (objections
    in force). Read at the moment of use, like consent."""

    restricted: bool = False
    objected: frozenset[str] = frozenset()


NO_LIMITS = ProcessingLimits()
# Staff asking about a subject whose limits were not looked up: decided as the strictest (fails closed).
UNKNOWN_LIMITS = ProcessingLimits(restricted=True)


def limit_reason(limits: ProcessingLimits, purpose_key: str | None, *, reading: bool,
                 purposes: Mapping[str, Purpose] = PURPOSES) -> Reason | None:
    """Why `purpose_key` may not use this subject's data now, or None. A restriction leaves, for staff
    reading, only the purposes that may read restricted data (legal claims) and, for data leaving the shop,
    only disclosures the law requires; an objection in force stops its purpose."""
    purpose = purposes.get(purpose_key or "")
    if limits.restricted:
        exempt = purpose is not None and (
            purpose.reads_any_declared if reading else purpose.legal_basis is LegalBasis.LEGAL_OBLIGATION)
        if not exempt:
            return Reason.RESTRICTED
    if purpose_key in limits.objected:
        return Reason.OBJECTED
    return None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: Reason | None = None


ALLOWED = Decision(Outcome.ALLOW)


@dataclass(frozen=True)
class Requester:
    """Who is asking: a customer (about themselves), a staff member under a purpose, or nobody."""

    customer_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    staff_role: StaffRole | None = None
    purpose: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None


def merged(declarations: Iterable[PersonalData]) -> PersonalData:
    """One declaration for a field that exposes several columns: the union of their categories and
    purposes, but only the purposes every column shares may read it whole."""
    items = list(declarations)
    first = items[0]
    if len(items) == 1:
        return first
    shared = [p for p in first.purposes if all(p in d.purposes for d in items[1:])]
    categories = list(dict.fromkeys(c for d in items for c in d.categories))
    return PersonalData(tuple(categories), tuple(shared), first.retention, first.erasure, first.label_en,
                        first.label_sv, Mask.NONE, first.source, first.kept_if)


def staff_decision(declaration: PersonalData, requester: Requester, *,
                   purposes: Mapping[str, Purpose] = PURPOSES) -> Decision:
    """The decision for a staff member, before the subject's consent is considered."""
    if requester.purpose is None:
        return Decision(Outcome.DENY, Reason.NO_PURPOSE_DECLARED)
    purpose = purposes.get(requester.purpose)
    role_may_use = purpose is not None and requester.staff_role in purpose.staff_roles
    # The value is declared for the purpose, or the purpose may read any declared value (legal claims).
    covered = purpose is not None and (requester.purpose in declaration.purposes or purpose.reads_any_declared)
    if role_may_use and covered:
        return ALLOWED
    # A legitimate purpose that does not cover this value: its masked form, where it has one.
    if role_may_use and declaration.mask is not Mask.NONE:
        return Decision(Outcome.MASK, Reason.PURPOSE_NOT_PERMITTED)
    return Decision(Outcome.DENY, Reason.PURPOSE_NOT_PERMITTED)


def needs_consent(requester: Requester, *, purposes: Mapping[str, Purpose] = PURPOSES) -> bool:
    purpose = purposes.get(requester.purpose or "")
    return purpose is not None and purpose.needs_consent


def decide(declaration: PersonalData, requester: Requester, *, subject_id: uuid.UUID | None,
           consented: bool = False, limits: ProcessingLimits = NO_LIMITS,
           purposes: Mapping[str, Purpose] = PURPOSES) -> Decision:
    """May `requester` read this value of `subject_id`?

    A customer reads everything about themselves and nothing about anyone else. A staff member
    reads a value when their role may act under the request's purpose, the value is declared for
    it, the subject has not restricted the processing or objected to the purpose, and, for a
    consent-based purpose, the subject's consent is live.
    """
    if not requester.is_staff:
        if requester.customer_id is not None and requester.customer_id == subject_id:
            return ALLOWED
        return Decision(Outcome.DENY, Reason.NOT_THE_SUBJECT)
    if requester.staff_id is not None and requester.staff_id == subject_id:
        return ALLOWED  # a staff member's own account
    if requester.purpose is not None:
        # Restricted, or objected to: nothing of the person under this purpose, not even masked forms.
        stopped = limit_reason(limits, requester.purpose, reading=True, purposes=purposes)
        if stopped is not None:
            return Decision(Outcome.DENY, stopped)
    decision = staff_decision(declaration, requester, purposes=purposes)
    # Without live consent a consent-based purpose sees nothing of the person, not even masked forms.
    if decision.outcome is not Outcome.DENY and needs_consent(requester, purposes=purposes) and not consented:
        return Decision(Outcome.DENY, Reason.NO_CONSENT)
    return decision
