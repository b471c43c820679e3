"""The breach register (GDPR Art. 33(5)): what happened, what it touched, what it may lead to, what was
done; the 72 hours from discovery to notify the supervisory authority (Art. 33(1)); whether and when the
authority and the people affected were told (Art. 34), and why not if not.

Append-only through the access log's mechanism (`audit.chain.HashChain`): recording a breach appends its
first entry, every update appends another holding the breach as it then stands, and nothing here (nor
the database, by trigger) updates or deletes an entry. Times are stored in UTC, so the deadline is 72
real hours whatever the clocks in Sweden do meanwhile."""

from __future__ import annotations

import enum
import hashlib
import logging
import uuid
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from ..audit.chain import HashChain, Verification
from ..errors import BadUserInput, Conflict, NotFound
from ..privacy.taxonomy import CATEGORIES
from ..storage.database import Database
from ..storage.tables import BreachEntry
from ..storage.types import utc_now

logger = logging.getLogger("shop_privacy.breaches")

IMY_DEADLINE = timedelta(hours=72)  # Art. 33(1): "not later than 72 hours after having become aware of it"
_LOCK_ID = 0x5350_4252  # "SPBR": appends to the register take turns on PostgreSQL
MAX_NOTE = 1000
MAX_REASON = 2000


class DeadlineState(enum.StrEnum):
    """Where the notification of the supervisory authority stands."""

    OPEN = "open"  # not told yet, the 72 hours still running
    OVERDUE = "overdue"  # not told, and the 72 hours are over
    NOTIFIED = "notified"  # told within the 72 hours
    NOTIFIED_LATE = "notified_late"  # told after them (Art. 33(1): the reasons for the delay are owed)
    NOT_NOTIFIED = "not_notified"  # decided not to: unlikely to result in a risk, with the reason recorded


@dataclass(frozen=True)
class BreachFacts:
    """What the DPO records of a breach; every entry holds all of it, as it stood then."""

    discovered_at: datetime
    description: str
    categories: tuple[str, ...]
    subjects_approx: int
    records_approx: int
    consequences: str
    measures: str
    imy_notified_at: datetime | None = None
    imy_not_notified_reason: str | None = None
    subjects_notified_at: datetime | None = None
    subjects_not_notified_reason: str | None = None


@dataclass(frozen=True)
class BreachChanges:
    """An update: `note` says what it is about; the fields given replace the breach's, the others stay.
    Telling the authority (or the people) replaces a recorded reason for not telling them."""

    note: str
    discovered_at: datetime | None = None
    description: str | None = None
    categories: tuple[str, ...] | None = None
    subjects_approx: int | None = None
    records_approx: int | None = None
    consequences: str | None = None
    measures: str | None = None
    imy_notified_at: datetime | None = None
    imy_not_notified_reason: str | None = None
    subjects_notified_at: datetime | None = None
    subjects_not_notified_reason: str | None = None


@dataclass(frozen=True)
class Breach:
    """A breach as its latest entry has it, with every entry (oldest first)."""

    id: uuid.UUID
    facts: BreachFacts
    entries: tuple[BreachEntry, ...]

    @property
    def recorded_at(self) -> datetime:
        return self.entries[0].recorded_at

    @property
    def imy_deadline(self) -> datetime:
        return self.facts.discovered_at + IMY_DEADLINE

    def deadline_state(self, now: datetime) -> DeadlineState:
        facts = self.facts
        if facts.imy_notified_at is not None:
            return DeadlineState.NOTIFIED if facts.imy_notified_at <= self.imy_deadline else DeadlineState.NOTIFIED_LATE
        if facts.imy_not_notified_reason:
            return DeadlineState.NOT_NOTIFIED
        return DeadlineState.OVERDUE if now > self.imy_deadline else DeadlineState.OPEN

    def hours_left(self, now: datetime) -> float | None:
        """Until the deadline, while it runs (negative once overdue); None once decided."""
        if self.deadline_state(now) not in {DeadlineState.OPEN, DeadlineState.OVERDUE}:
            return None
        return round((self.imy_deadline - now).total_seconds() / 3600, 1)

    def as_json(self, now: datetime, *, with_entries: bool = False) -> dict[str, Any]:
        facts = self.facts
        answer: dict[str, Any] = {
            "id": str(self.id), "recordedAt": _iso(self.recorded_at), "discoveredAt": _iso(facts.discovered_at),
            "imyDeadline": _iso(self.imy_deadline), "deadlineState": self.deadline_state(now).value,
            "hoursLeft": self.hours_left(now), "description": facts.description,
            "categories": list(facts.categories), "subjectsApprox": facts.subjects_approx,
            "recordsApprox": facts.records_approx, "consequences": facts.consequences, "measures": facts.measures,
            "imyNotifiedAt": _iso(facts.imy_notified_at), "imyNotNotifiedReason": facts.imy_not_notified_reason,
            "subjectsNotifiedAt": _iso(facts.subjects_notified_at),
            "subjectsNotNotifiedReason": facts.subjects_not_notified_reason, "entries": len(self.entries),
        }
        if with_entries:
            answer["history"] = [{"sequence": e.sequence, "recordedAt": _iso(e.recorded_at),
                                  "recordedBy": str(e.recorded_by), "note": e.note} for e in self.entries]
        return answer


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


class BreachRegister:
    def __init__(self, db: Database, secret: str) -> None:
        self._db = db
        self.chain = HashChain(db, BreachEntry, hashlib.sha256(f"breach-register:{secret}".encode()).digest(),
                               _LOCK_ID, _content, noun="register")

    async def record(self, staff_id: uuid.UUID, facts: BreachFacts, *, note: str = "Recorded",
                     now: datetime | None = None) -> Breach:
        now = now or utc_now()
        facts = _checked(facts, now)
        entry = _entry(uuid.uuid4(), staff_id, _note(note), facts, now)
        async with self._db.transaction() as session:
            await self.chain.append(session, [entry])
        logger.info("breach recorded breach_id=%s staff_id=%s sequence=%d", entry.breach_id, staff_id, entry.sequence)
        return Breach(entry.breach_id, facts, (entry,))

    async def add_entry(self, staff_id: uuid.UUID, breach_id: uuid.UUID, changes: BreachChanges, *,
                        now: datetime | None = None) -> Breach:
        """Append the breach as it stands after `changes`; the entries before stay as they were."""
        now = now or utc_now()
        note = _note(changes.note)
        async with self._db.transaction() as session:
            await self.chain.lock(session)  # read the latest entry and append after it, no other entry between
            entries = await self._entries(session, breach_id)
            if not entries:
                raise NotFound("No such breach.")
            before = _facts_of(entries[-1])
            facts = _checked(_applied(before, changes), now)
            if facts == before:
                raise BadUserInput("The entry changes nothing; say what is new.", reason="nothing_changed")
            entry = _entry(breach_id, staff_id, note, facts, now)
            await self.chain.append(session, [entry])
        logger.info("breach entry added breach_id=%s staff_id=%s sequence=%d", breach_id, staff_id, entry.sequence)
        return Breach(breach_id, facts, (*entries, entry))

    async def get(self, breach_id: uuid.UUID) -> Breach | None:
        async with self._db.read() as session:
            entries = await self._entries(session, breach_id)
        return Breach(breach_id, _facts_of(entries[-1]), tuple(entries)) if entries else None

    async def all(self) -> list[Breach]:
        """Every breach, the most recently discovered first."""
        async with self._db.read() as session:
            rows = list((await session.exec(select(BreachEntry).order_by(col(BreachEntry.sequence)))).all())
        grouped: dict[uuid.UUID, list[BreachEntry]] = {}
        for row in rows:
            grouped.setdefault(row.breach_id, []).append(row)
        breaches = [Breach(key, _facts_of(entries[-1]), tuple(entries)) for key, entries in grouped.items()]
        return sorted(breaches, key=lambda b: (b.facts.discovered_at, b.recorded_at), reverse=True)

    async def verify(self) -> Verification:
        return await self.chain.verify()

    async def _entries(self, session: Any, breach_id: uuid.UUID) -> list[BreachEntry]:
        query = select(BreachEntry).where(col(BreachEntry.breach_id) == breach_id).order_by(col(BreachEntry.sequence))
        return list((await session.exec(query)).all())


def _content(entry: BreachEntry) -> list[object]:
    """What an entry's hash covers besides its place in the chain."""
    return [str(entry.breach_id), _iso(entry.recorded_at), str(entry.recorded_by), entry.note,
            _iso(entry.discovered_at), entry.description, entry.categories, entry.subjects_approx,
            entry.records_approx, entry.consequences, entry.measures, _iso(entry.imy_notified_at),
            entry.imy_not_notified_reason, _iso(entry.subjects_notified_at), entry.subjects_not_notified_reason]


def _entry(breach_id: uuid.UUID, staff_id: uuid.UUID, note: str, facts: BreachFacts, now: datetime) -> BreachEntry:
    values = {f.name: getattr(facts, f.name) for f in fields(facts)}
    values["categories"] = ",".join(facts.categories)
    return BreachEntry(breach_id=breach_id, sequence=0, recorded_at=now, recorded_by=staff_id, note=note,
                       previous_hash="", row_hash="", **values)


def _facts_of(entry: BreachEntry) -> BreachFacts:
    values = {f.name: getattr(entry, f.name) for f in fields(BreachFacts)}
    values["categories"] = tuple(entry.categories.split(",")) if entry.categories else ()
    return BreachFacts(**values)


def _applied(facts: BreachFacts, changes: BreachChanges) -> BreachFacts:
    given = {f.name: getattr(changes, f.name) for f in fields(changes)
             if f.name != "note" and getattr(changes, f.name) is not None}
    if "imy_notified_at" in given and "imy_not_notified_reason" not in given:
        given["imy_not_notified_reason"] = None
    if "subjects_notified_at" in given and "subjects_not_notified_reason" not in given:
        given["subjects_not_notified_reason"] = None
    for told, reason, whom in (("imy_notified_at", "imy_not_notified_reason", "The supervisory authority"),
                               ("subjects_notified_at", "subjects_not_notified_reason", "The people affected")):
        if given.get(reason) and getattr(facts, told) is not None and told not in given:
            raise Conflict(f"{whom} were told already; a reason for not telling them no longer applies.",
                           reason="already_notified")
    return replace(facts, **given)


def _note(note: str) -> str:
    note = note.strip()
    if not note:
        raise BadUserInput("Say what the entry is about.", reason="note_required")
    if len(note) > MAX_NOTE:
        raise BadUserInput(f"The note may be at most {MAX_NOTE} characters.", reason="too_long", field="note")
    return note


def _checked(facts: BreachFacts, now: datetime) -> BreachFacts:
    """Every rule an entry keeps, whether it records the breach or updates it."""
    for name in ("discovered_at", "imy_notified_at", "subjects_notified_at"):
        moment = getattr(facts, name)
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput("Give times with their offset (e.g. +01:00 or Z).", reason="time_zone_required",
                               field=name)
        if moment is not None and moment > now:
            raise BadUserInput("A time in the register cannot be in the future.", reason="in_the_future", field=name)
    discovered = facts.discovered_at.astimezone(UTC)
    told = [(name, getattr(facts, name)) for name in ("imy_notified_at", "subjects_notified_at")]
    for name, moment in told:
        if moment is not None and moment < discovered:
            raise BadUserInput("Nobody was told before the breach was discovered.", reason="notified_before_discovery",
                               field=name)
    texts = {"description": facts.description, "consequences": facts.consequences, "measures": facts.measures}
    for name, value in texts.items():
        if not value.strip():
            raise BadUserInput(f"Say what the {name} are." if name != "description" else "Say what happened.",
                               reason="required", field=name)
    for name in ("imy_not_notified_reason", "subjects_not_notified_reason"):
        value = getattr(facts, name)
        if value is not None and (not value.strip() or len(value) > MAX_REASON):
            raise BadUserInput(f"A reason must be given, at most {MAX_REASON} characters.", reason="bad_reason",
                               field=name)
    if facts.imy_notified_at is not None and facts.imy_not_notified_reason:
        raise BadUserInput("Either the authority was told, or why not.", reason="told_and_not_told")
    if facts.subjects_notified_at is not None and facts.subjects_not_notified_reason:
        raise BadUserInput("Either the people affected were told, or why not.", reason="told_and_not_told")
    if facts.subjects_approx < 0 or facts.records_approx < 0:
        raise BadUserInput("The numbers of people and records cannot be negative.", reason="negative_count")
    categories = tuple(dict.fromkeys(c.strip() for c in facts.categories if c.strip()))
    if not categories:
        raise BadUserInput("Name the categories of data the breach concerns.", reason="categories_required")
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise BadUserInput(f"Unknown categories: {', '.join(unknown)}.", reason="unknown_category")
    return replace(facts, discovered_at=discovered, categories=categories,
                   imy_notified_at=_utc(facts.imy_notified_at), subjects_notified_at=_utc(facts.subjects_notified_at),
                   description=facts.description.strip(), consequences=facts.consequences.strip(),
                   measures=facts.measures.strip())


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


__all__ = ["IMY_DEADLINE", "Breach", "BreachChanges", "BreachFacts", "BreachRegister", "DeadlineState"]
