"""GraphQL types of the breach register (the DPO's, in the staff schema). It holds no personal data:
categories and counts of what a breach touched, not who."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ...breaches.register import Breach as BreachRecord
from ...breaches.register import BreachChanges, BreachFacts, DeadlineState
from ..core.ids import encode_id

strawberry.enum(DeadlineState, name="BreachDeadlineState",
                description="Where the notification of the supervisory authority (IMY) stands.")


@strawberry.type(description="One entry of a breach's history: the first records it, the others update it.")
class BreachEntry:
    sequence: int
    recorded_at: datetime
    recorded_by: strawberry.ID
    note: str


@strawberry.type(description="A personal-data breach (GDPR Art. 33, 34), as its latest entry has it.")
class Breach:
    id: strawberry.ID
    recorded_at: datetime
    discovered_at: datetime
    imy_deadline: datetime = strawberry.field(description="72 hours after discovery (Art. 33(1)).")
    deadline_state: DeadlineState
    hours_left: float | None = strawberry.field(
        description="Until the deadline while nobody has decided (negative once overdue).")
    description: str
    categories: list[str]
    subjects_approx: int
    records_approx: int
    consequences: str
    measures: str
    imy_notified_at: datetime | None
    imy_not_notified_reason: str | None
    subjects_notified_at: datetime | None
    subjects_not_notified_reason: str | None
    entries: list[BreachEntry]

    @classmethod
    def from_record(cls, breach: BreachRecord, now: datetime) -> Breach:
        facts = breach.facts
        return cls(
            id=encode_id("Breach", breach.id), recorded_at=breach.recorded_at, discovered_at=facts.discovered_at,
            imy_deadline=breach.imy_deadline, deadline_state=breach.deadline_state(now),
            hours_left=breach.hours_left(now), description=facts.description, categories=list(facts.categories),
            subjects_approx=facts.subjects_approx, records_approx=facts.records_approx,
            consequences=facts.consequences, measures=facts.measures, imy_notified_at=facts.imy_notified_at,
            imy_not_notified_reason=facts.imy_not_notified_reason, subjects_notified_at=facts.subjects_notified_at,
            subjects_not_notified_reason=facts.subjects_not_notified_reason,
            entries=[BreachEntry(sequence=e.sequence, recorded_at=e.recorded_at,
                                 recorded_by=encode_id("StaffMember", e.recorded_by), note=e.note)
                     for e in breach.entries],
        )


@strawberry.input(description="Describe the breach by categories and counts; name nobody.")
class RecordBreachInput:
    discovered_at: datetime
    description: str = strawberry.field(description="What happened.")
    categories: list[str] = strawberry.field(description="Categories of data concerned (the taxonomy's keys).")
    subjects_approx: int = strawberry.field(description="Approximate number of people concerned.")
    records_approx: int = strawberry.field(description="Approximate number of records concerned.")
    consequences: str = strawberry.field(description="The likely consequences.")
    measures: str = strawberry.field(description="Measures taken or proposed, also to mitigate its effects.")
    imy_notified_at: datetime | None = None
    imy_not_notified_reason: str | None = None
    subjects_notified_at: datetime | None = None
    subjects_not_notified_reason: str | None = None

    def facts(self) -> BreachFacts:
        return BreachFacts(
            discovered_at=self.discovered_at, description=self.description, categories=tuple(self.categories),
            subjects_approx=self.subjects_approx, records_approx=self.records_approx,
            consequences=self.consequences, measures=self.measures, imy_notified_at=self.imy_notified_at,
            imy_not_notified_reason=self.imy_not_notified_reason, subjects_notified_at=self.subjects_notified_at,
            subjects_not_notified_reason=self.subjects_not_notified_reason)


@strawberry.input(description="An update: what is new (the note), and the fields that changed.")
class BreachEntryInput:
    note: str
    discovered_at: datetime | None = None
    description: str | None = None
    categories: list[str] | None = None
    subjects_approx: int | None = None
    records_approx: int | None = None
    consequences: str | None = None
    measures: str | None = None
    imy_notified_at: datetime | None = None
    imy_not_notified_reason: str | None = None
    subjects_notified_at: datetime | None = None
    subjects_not_notified_reason: str | None = None

    def changes(self) -> BreachChanges:
        return BreachChanges(
            note=self.note, discovered_at=self.discovered_at, description=self.description,
            categories=tuple(self.categories) if self.categories is not None else None,
            subjects_approx=self.subjects_approx, records_approx=self.records_approx,
            consequences=self.consequences, measures=self.measures, imy_notified_at=self.imy_notified_at,
            imy_not_notified_reason=self.imy_not_notified_reason, subjects_notified_at=self.subjects_notified_at,
            subjects_not_notified_reason=self.subjects_not_notified_reason)
