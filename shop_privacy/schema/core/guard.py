"""Per request: who asks, for which purpose, with which consents; shapes each object as it is built."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...audit.access_log import AccessRead
from ...privacy.access import (
    ALLOWED,
    NO_LIMITS,
    UNKNOWN_LIMITS,
    Decision,
    Outcome,
    ProcessingLimits,
    Requester,
    decide,
    needs_consent,
)
from ...privacy.declarations import PersonalData
from ...privacy.masking import masked
from .personal import PersonalField, Withheld, personal_fields


@dataclass
class AccessRecorder:
    """Collects which personal values a staff member actually read, per data subject."""

    staff_id: uuid.UUID
    purpose: str
    request_id: str
    # Per subject, the fields read in full and those read masked: cheap to note on every read (a set
    # add: this runs once per personal value shown), expanded once.
    _read: dict[uuid.UUID, set[PersonalField]] = field(default_factory=lambda: defaultdict(set))
    _masked: dict[uuid.UUID, set[PersonalField]] = field(default_factory=lambda: defaultdict(set))

    def read(self, subject_id: uuid.UUID, personal_field: PersonalField, *, masked: bool = False) -> None:
        (self._masked if masked else self._read)[subject_id].add(personal_field)

    def fields_read_of(self, subject_id: uuid.UUID) -> set[PersonalField]:
        """The set the subject's full reads go to (a row of theirs adds to it directly)."""
        return self._read[subject_id]

    def reads(self) -> list[AccessRead]:
        entries = []
        subjects = {s for s, fields in (*self._read.items(), *self._masked.items()) if fields}
        for subject_id in sorted(subjects, key=str):
            fields = {(f, False) for f in self._read.get(subject_id, ())} | \
                     {(f, True) for f in self._masked.get(subject_id, ())}
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
    # Where each personal field read in full is added (once per value shown: a set's add, not a call).
    fields_read: set[PersonalField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields_read", self.recorder.fields_read_of(self.subject_id))


# (python name, declaration, decision) of each personal field of a type that is not allowed in full.
_Withheld = tuple[tuple[str, PersonalData, Decision], ...]


@dataclass(slots=True)
class _Subject:
    """What a request has worked out about one data subject, for every object of theirs it builds."""

    owned: bool  # the requester's own data
    privacy: RowPrivacy | None  # where reads of their data are recorded (staff)
    withheld: dict[type, _Withheld] = field(default_factory=dict)


class PrivacyGuard:
    def __init__(self, requester: Requester, recorder: AccessRecorder | None = None) -> None:
        self.requester = requester
        self.recorder = recorder
        self._consented: dict[uuid.UUID, bool] = {}
        # Restrictions and objections in force, per subject, read when the rows were (see `note_limits`).
        self._limits: dict[uuid.UUID, ProcessingLimits] = {}
        self._decisions: dict[tuple[int, bool, ProcessingLimits], Decision] = {}
        # Per subject (by the UUID's int: hashed and compared in C, a UUID in Python), once per request.
        self._subjects: dict[int | None, _Subject] = {}
        self._withheld_by_class: dict[tuple[type, bool, ProcessingLimits], _Withheld] = {}

    @property
    def needs_consent(self) -> bool:
        return self.requester.is_staff and needs_consent(self.requester)

    def note_consents(self, consented: dict[uuid.UUID, bool]) -> None:
        self._consented.update(consented)
        self._forget(consented)

    def knows_consent_of(self, subject_id: uuid.UUID) -> bool:
        return subject_id in self._consented

    def note_limits(self, limits: dict[uuid.UUID, ProcessingLimits]) -> None:
        self._limits.update(limits)
        self._forget(limits)

    def _forget(self, subject_ids: Iterable[uuid.UUID]) -> None:
        """What was worked out for these subjects before their consent or limits were known."""
        for subject_id in subject_ids:
            self._subjects.pop(subject_id.int, None)

    def knows_limits_of(self, subject_id: uuid.UUID) -> bool:
        return subject_id in self._limits

    def restricted(self, subject_id: uuid.UUID) -> bool | None:
        """For staff: whether the subject restricted the processing of their data (None: not looked up)."""
        limits = self._limits.get(subject_id)
        return None if limits is None or not self.requester.is_staff else limits.restricted

    def shape(self, cls: type, subject_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        """`values` for building `cls`, with each personal value the requester may not read replaced
        by its masked form or withheld."""
        subject = self._subject(subject_id)
        if subject.owned:
            values["privacy"] = None  # one's own data: nothing to decide, nothing to record
            return values
        withheld = subject.withheld.get(cls)
        if withheld is None:
            withheld = subject.withheld[cls] = self._withheld(cls, subject_id)
        for name, declaration, decision in withheld:
            assert decision.reason is not None
            if decision.outcome is Outcome.MASK:
                values[name] = Withheld(decision.reason, True, masked(declaration.mask, values[name]), subject_id)
            else:
                values[name] = Withheld(decision.reason, False, None, subject_id)
        values["privacy"] = subject.privacy
        return values

    def _subject(self, subject_id: uuid.UUID | None) -> _Subject:
        key = None if subject_id is None else subject_id.int
        subject = self._subjects.get(key)
        if subject is None:
            owned = self.owns(subject_id)
            # One RowPrivacy per subject and request, shared by all the subject's objects (it is immutable).
            privacy = RowPrivacy(subject_id, self.recorder) if self.recorder and subject_id and not owned else None
            subject = self._subjects[key] = _Subject(owned, privacy)
        return subject

    def owns(self, subject_id: uuid.UUID | None) -> bool:
        """The data is the requester's own: `shape` withholds nothing of it and records no read."""
        requester = self.requester
        return subject_id is not None and subject_id in (requester.customer_id, requester.staff_id)

    def shape_held(self, cls: type, customer_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        """Data that reaches a request only through its holder: the customer's session, or for a visitor
        the token in their own cookie (an anonymous cart, cookie consents). A visitor's is their own."""
        if customer_id is None and not self.requester.is_staff:
            values["privacy"] = None
            return values
        return self.shape(cls, customer_id, values)

    def _withheld(self, cls: type, subject_id: uuid.UUID | None) -> _Withheld:
        """The personal fields of `cls` not allowed in full, with their decisions. For staff the same for
        every object of a class, consent and restriction (see `_decision`): worked out once per request, so a page of
        objects costs one look-up each instead of a decision per field."""
        if not self.requester.is_staff or subject_id == self.requester.staff_id:
            return self._withheld_fields(cls, subject_id)
        key = (cls, self._consented_to(subject_id), self._limits_of(subject_id))
        withheld = self._withheld_by_class.get(key)
        if withheld is None:
            withheld = self._withheld_by_class[key] = self._withheld_fields(cls, subject_id)
        return withheld

    def _withheld_fields(self, cls: type, subject_id: uuid.UUID | None) -> _Withheld:
        return tuple((name, declaration, decision) for name, declaration in personal_fields(cls)
                     if (decision := self._decision(declaration, subject_id)) is not ALLOWED)

    def _consented_to(self, subject_id: uuid.UUID | None) -> bool:
        return bool(subject_id is not None and self._consented.get(subject_id, False))

    def _limits_of(self, subject_id: uuid.UUID | None) -> ProcessingLimits:
        return NO_LIMITS if subject_id is None else self._limits.get(subject_id, UNKNOWN_LIMITS)

    def _decision(self, declaration: PersonalData, subject_id: uuid.UUID | None) -> Decision:
        if not self.requester.is_staff or subject_id == self.requester.staff_id:
            return decide(declaration, self.requester, subject_id=subject_id)
        # For staff the answer depends on the declaration, for consent purposes the consent, and the
        # subject's restriction and objections: not looked up, they count as restricted (fails closed).
        consented = self._consented_to(subject_id)
        limits = self._limits_of(subject_id)
        key = (id(declaration), consented, limits)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = decide(declaration, self.requester, subject_id=subject_id,
                                                     consented=consented, limits=limits)
        return decision


class OpenGuard(PrivacyGuard):
    """No enforcement at all: only for measuring what enforcement costs (bench/)."""

    def __init__(self) -> None:
        super().__init__(Requester())

    def shape(self, cls: type, subject_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        values["privacy"] = None
        return values
