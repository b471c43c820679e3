"""Staff processing that field-by-field recording does not see by itself, made visible in the access log:
what a customer search matched on, changes of an order's state, and reads of an erased customer's retained
order."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

from ...accounts.directory import SearchKind
from ...audit.access_log import NO_SUBJECT
from ...privacy.access import NO_LIMITS
from ...storage.tables import Customer as CustomerRow
from ...storage.tables import Order as OrderRow
from ..core.guard import AccessRecorder, PrivacyGuard
from ..core.personal import PersonalField, personal

# The columns a search compares with what the staff member typed; the purpose must cover each of them.
SEARCHED_COLUMNS: dict[SearchKind, tuple[Any, ...]] = {
    SearchKind.LIST: (),  # compares nothing: the role must only be one that may act under the purpose
    SearchKind.EMAIL: (CustomerRow.email,),
    SearchKind.NAME: (CustomerRow.first_name, CustomerRow.last_name),
}


def _note(columns: tuple[Any, ...], label: str) -> PersonalField:
    """A pseudo-field the access recorder takes like a field read: its columns say what the search did."""
    field = personal(*columns)
    field.columns = tuple(f"{name} ({label})" for name in field.columns)
    return field  # type: ignore[no-any-return]


def _listing_note() -> PersonalField:
    # A listing reads no value, but tells who has an account: logged as "customers (listed)", user.account.
    field = _note((CustomerRow.created_at,), "listed")
    field.columns = ("customers (listed)",)
    field.declaration = dataclasses.replace(field.declaration, categories=("user.account",))
    return field


_NOTES: dict[SearchKind, PersonalField] = {
    SearchKind.LIST: _listing_note(),
    SearchKind.EMAIL: _note(SEARCHED_COLUMNS[SearchKind.EMAIL], "searched"),
    SearchKind.NAME: _note(SEARCHED_COLUMNS[SearchKind.NAME], "searched"),
}


def record_search(recorder: AccessRecorder | None, kind: SearchKind, found: Iterable[uuid.UUID]) -> None:
    """One access-log row per customer the search returned, whatever fields are then read of them (the
    answer alone tells that they are a customer); a search that found nobody is recorded too, with no
    subject, so probing for addresses or names leaves a trace. The search term itself is never stored."""
    if recorder is None:
        return
    subjects = list(found) or [NO_SUBJECT]
    for subject in subjects:
        recorder.read(subject, _NOTES[kind])


_ORDER_CHANGE = _note((OrderRow.status,), "changed")


def record_order_change(recorder: AccessRecorder | None, row: OrderRow) -> None:
    """Changing an order's state processes the customer's purchase history whatever the answer then reads:
    one access-log row for it, under the customer, or the order itself once the customer is erased."""
    if recorder is not None:
        recorder.read(row.customer_id or row.id, _ORDER_CHANGE)


class StandInGuard(PrivacyGuard):
    """For an order whose customer was erased: the retained accounting data (an invoice's company name,
    organisation number and address) is still personal data, but there is no customer id left to record
    its reads under. The order's own id stands in for the subject; the guard decides exactly as it would
    for a row with no subject (no consent known, so consent-based purposes see nothing)."""

    def __init__(self, guard: PrivacyGuard, stand_in: uuid.UUID) -> None:
        super().__init__(guard.requester, guard.recorder)
        self._decisions = guard._decisions  # the same requester: share its decisions
        self._withheld_by_class = guard._withheld_by_class
        # An erased customer has no restriction or objection left (they went with the account).
        self.note_limits({stand_in: NO_LIMITS})
        self._stand_in = stand_in

    def shape(self, cls: type, subject_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
        return super().shape(cls, self._stand_in if subject_id is None else subject_id, values)


def order_guard(guard: PrivacyGuard, row: OrderRow) -> PrivacyGuard:
    """The guard to build an order with: its own for an erased customer's order, so reads are recorded."""
    if row.customer_id is not None or guard.recorder is None or not guard.requester.is_staff:
        return guard
    return StandInGuard(guard, row.id)
