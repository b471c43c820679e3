"""GraphQL types of data-subject requests."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from ...accounts.profile import Correction as CorrectionRecord
from ...privacy.purposes import objection_targets
from ...rights.requests import Channel, RequestKind, RequestStatus
from ...storage.tables import Disclosure as DisclosureRow
from ...storage.tables import ProcessingLimit as LimitRow
from ...storage.tables import Rectification as RectificationRow
from ...storage.tables import SubjectRequest as RequestRow
from ..core.connections import Connection
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.personal import personal, personal_directive, personal_input

# The service's enums, exposed as they are (strawberry.enum registers them in place).
strawberry.enum(RequestKind)
strawberry.enum(RequestStatus)
strawberry.enum(Channel, name="RequestChannel")
# Derived from the purposes: direct marketing, and each use resting on a legitimate interest.
ObjectionTarget = strawberry.enum(  # type: ignore[call-overload]
    enum.Enum("ObjectionTarget", {key.upper(): key for key in objection_targets()}),  # type: ignore[misc]
    description="What an objection (GDPR Art. 21) is to: DIRECT_MARKETING stops at once and for good; a use "
    "resting on a legitimate interest is decided by the DPO.",
)


@strawberry.type(description="A request to see, correct, erase or restrict personal data, or an objection to its "
                             "use; due one month after receipt.")
class SubjectRequest:
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: RequestKind | None = personal(RequestRow.kind)
    status: RequestStatus | None = personal(RequestRow.status)
    channel: Channel | None = personal(RequestRow.channel)
    received_at: datetime | None = personal(RequestRow.received_at)
    due_at: datetime | None = personal(RequestRow.due_at)
    completed_at: datetime | None = personal(RequestRow.completed_at)
    hold_reason: str | None = personal(RequestRow.hold_reason, description="Why an erasure waits.")
    identity_verification: str | None = personal(RequestRow.identity_verification)
    identity_verified_at: datetime | None = personal(
        RequestRow.identity_verified_at,
        description="For a request by e-mail: when the requester followed the link mailed to the account.")
    extended_at: datetime | None = personal(RequestRow.extended_at)
    extension_reason: str | None = personal(RequestRow.extension_reason,
                                            description="Mailed to the customer with the new due date.")
    report: JSON | None = personal(
        RequestRow.report, description="For an erasure: per category removed or retained, why, and until when. "
        "For a restriction or objection: the outcome (restricted, stopped, granted, refused), with the DPO's reason."
    )
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_row(cls, row: RequestRow, guard: PrivacyGuard) -> SubjectRequest:
        return cls(**guard.shape(cls, row.customer_id, {  # type: ignore[arg-type]
            "id": encode_id("SubjectRequest", row.id),
            "customer_id": encode_id("Customer", row.customer_id),
            "kind": RequestKind(row.kind),
            "status": RequestStatus(row.status),
            "channel": Channel(row.channel),
            "received_at": row.received_at,
            "due_at": row.due_at,
            "completed_at": row.completed_at,
            "hold_reason": row.hold_reason,
            "identity_verification": row.identity_verification,
            "identity_verified_at": row.identity_verified_at,
            "extended_at": row.extended_at,
            "extension_reason": row.extension_reason,
            "report": json.loads(row.report) if row.report else None,
        }))


SubjectRequestConnection = Connection[SubjectRequest]


@strawberry.type
class DataExportPayload:
    download_url: str = strawberry.field(
        description="A ZIP (data.json and index.html). It opens only for you, logged in, until expiresAt."
    )
    expires_at: datetime
    request: SubjectRequest


@strawberry.input
class RegisterRequestInput:
    customer_id: strawberry.ID
    kind: RequestKind
    channel: Channel = strawberry.field(
        default=Channel.EMAIL, description="EMAIL: the requester confirms their identity with a link mailed to the "
        "account's address, and the request waits until then. LETTER or IN_PERSON: say how it was checked.")
    identity_verification: str | None = strawberry.field(
        default=None, description="How the requester's identity was verified (LETTER and IN_PERSON only).")
    received_at: datetime | None = None
    objects_to: ObjectionTarget | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="For an OBJECTION: what it objects to.")
    grounds: str | None = personal_input(
        LimitRow.grounds, default=None,
        description="For a RESTRICTION or OBJECTION: the requester's grounds, as they gave them.")


@strawberry.type(description="A correction of the customer's data (P23): which field, when, by whom, and which "
                             "recipients that had the field were sent the correction. Never the old value.")
class Correction:
    field: str | None = personal(RectificationRow.field, description="table.column, e.g. customers.last_name.")
    changed_at: datetime | None = personal(RectificationRow.changed_at)
    changed_by: str | None = personal(RectificationRow.changed_by, description="customer, or staff:<id>.")
    recipients_told: list[str] | None = personal(DisclosureRow.recipient)
    privacy: strawberry.Private[RowPrivacy | None] = None

    @classmethod
    def from_record(cls, record: CorrectionRecord, guard: PrivacyGuard) -> Correction:
        row = record.rectification
        return cls(**guard.shape(cls, row.customer_id, {  # type: ignore[arg-type]
            "field": row.field, "changed_at": row.changed_at, "changed_by": row.changed_by,
            "recipients_told": record.recipients_told,
        }))


Grounds = Annotated[str | None, strawberry.argument(
    description="Your grounds, in your own words (needed for an objection to a legitimate interest).",
    directives=[personal_directive(LimitRow.grounds)],
)]


@strawberry.input(description="GDPR Art. 12(3): once, within the first month, by up to two further months.")
class ExtendRequestInput:
    months: int = strawberry.field(description="1 or 2 months after the first month's end.")
    reason: str = strawberry.field(description="Why more time is needed; mailed to the customer.")
