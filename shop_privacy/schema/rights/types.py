"""GraphQL types of data-subject requests."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from ...rights.requests import Channel, RequestKind, RequestStatus
from ...storage.tables import SubjectRequest as RequestRow
from ..core.connections import Connection
from ..core.guard import PrivacyGuard, RowPrivacy
from ..core.ids import encode_id
from ..core.personal import personal

# The service's enums, exposed as they are (strawberry.enum registers them in place).
strawberry.enum(RequestKind)
strawberry.enum(RequestStatus)
strawberry.enum(Channel, name="RequestChannel")


@strawberry.type(description="A request to see, correct or erase personal data; due one month after receipt.")
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
    report: JSON | None = personal(
        RequestRow.report, description="For an erasure: per category removed or retained, why, and until when."
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
    identity_verification: str = strawberry.field(description="How the requester's identity was verified.")
    received_at: datetime | None = None
