"""Per request: who asks, for which purpose, with which consents; shapes each object as it is built."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ...audit.access_log import AccessRead
from ...privacy.access import ALLOWED, Decision, Outcome, Requester, decide, needs_consent
from ...privacy.declarations import PersonalData
from ...privacy.masking import masked
from .personal import PersonalField, Withheld, personal_fields


@dataclass
class AccessRecorder:
    """Collects which personal values a staff member actually read, per data subject."""

    staff_id: uuid.UUID
    purpose: str
    request_id: str
    # Per subject, the fields read (and whether masked): cheap to note on every read, expanded once.
    _reads: dict[uuid.UUID, set[tuple[PersonalField, bool]]] = field(default_factory=lambda: defaultdict(set))

    def read(self, subject_id: uuid.UUID, personal_field: PersonalField, *, masked: bool = False) -> None:
        self._reads[subject_id].add((personal_field, masked))

    def reads(self) -> list[AccessRead]:
        entries = []
        for subject_id, fields in sorted(self._reads.items(), key=lambda item: str(item[0])):
            categories = frozenset(c for f, _ in fields for c in f.declaration.categories)
            columns = frozenset(f"{column}{' (masked)' if masked else ''}" for f, masked in fields
                                for column in f.columns)
            entries.append(AccessRead(self.staff_id, subject_id, self.purpose, categories, columns, self.request_id))
        return entries


@dataclass(frozen=True, slots=True)
class RowPrivacy:
    """Carried by each object built for a staff member: whose data it is, where reads are recorded."""

    subject_id: uuid.UUID
    recorder: AccessRecorder

    def read(self, personal_field: PersonalField) -> None:
        self.recorder.read(self.subject_id, personal_field)


class PrivacyGuard:
    def __init__(self, requester: Requester, recorder: AccessRecorder | None = None) -> None:
        self.requester = requester
        self.recorder = recorder
        self._consented: dict[uuid.UUID, bool] = {}
        self._decisions: dict[tuple[int, bool], Decision] = {}

    @property
    def needs_consent(self) -> bool:
        return self.requester.is_staff and needs_consent(self.requester)

    def note_consents(self, consented: dict[uuid.UUID, bool]) -> None:
        self._consented.update(consented)

    def knows_consent_of(self, subject_id: uuid.UUID) -> bool:
        return subject_id in self._consented

    def shape(self, cls: type, subject_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        """`values` for building `cls`, with each personal value the requester may not read replaced
        by its masked form or withheld."""
        requester = self.requester
        if subject_id is not None and subject_id in (requester.customer_id, requester.staff_id):
            values["privacy"] = None  # one's own data: nothing to decide, nothing to record
            return values
        for name, declaration in personal_fields(cls):
            decision = self._decision(declaration, subject_id)
            if decision is ALLOWED:
                continue
            assert decision.reason is not None
            if decision.outcome is Outcome.MASK:
                values[name] = Withheld(decision.reason, True, masked(declaration.mask, values[name]), subject_id)
            else:
                values[name] = Withheld(decision.reason, False, None, subject_id)
        values["privacy"] = RowPrivacy(subject_id, self.recorder) if self.recorder and subject_id else None
        return values

    def shape_held(self, cls: type, customer_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        """Data that reaches a request only through its holder: the customer's session, or for a visitor
        the token in their own cookie (an anonymous cart, cookie consents). A visitor's is their own."""
        if customer_id is None and not self.requester.is_staff:
            values["privacy"] = None
            return values
        return self.shape(cls, customer_id, values)

    def _decision(self, declaration: PersonalData, subject_id: uuid.UUID | None) -> Decision:
        if not self.requester.is_staff or subject_id == self.requester.staff_id:
            return decide(declaration, self.requester, subject_id=subject_id)
        # For staff the answer depends on the declaration and, for consent purposes, the consent only.
        consented = bool(subject_id is not None and self._consented.get(subject_id, False))
        key = (id(declaration), consented)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = decide(declaration, self.requester, subject_id=subject_id,
                                                     consented=consented)
        return decision


class OpenGuard(PrivacyGuard):
    """No enforcement at all: only for measuring what enforcement costs (bench/)."""

    def __init__(self) -> None:
        super().__init__(Requester())

    def shape(self, cls: type, subject_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        values["privacy"] = None
        return values
