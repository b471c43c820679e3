"""The breach register over the staff API: the DPO records breaches and adds entries; nothing edits one."""

from __future__ import annotations

import strawberry

from ..errors import Forbidden
from ..privacy.purposes import StaffRole
from ..schema.breaches.types import Breach, BreachEntryInput, RecordBreachInput
from ..schema.core.context import AdminContext
from ..schema.core.ids import decode_id
from ..staff.accounts import StaffViewer
from ..storage.types import utc_now
from .inputs import required_id

Info = strawberry.Info[AdminContext, None]


async def _require_dpo(context: AdminContext) -> StaffViewer:
    staff = await context.require_staff()
    if staff.role is not StaffRole.DPO:
        raise Forbidden("Only the data protection officer keeps the breach register.")
    return staff


async def breaches(info: Info) -> list[Breach] | None:
    """Every breach, the most recently discovered first, with the state of its 72-hour deadline."""
    await _require_dpo(info.context)
    now = utc_now()
    return [Breach.from_record(b, now) for b in await info.context.services.breaches.all()]


async def breach(info: Info, id: strawberry.ID) -> Breach | None:  # noqa: A002 - GraphQL's name
    await _require_dpo(info.context)
    breach_id = decode_id("Breach", id)
    found = await info.context.services.breaches.get(breach_id) if breach_id else None
    return Breach.from_record(found, utc_now()) if found else None


async def record_breach(info: Info, input: RecordBreachInput) -> Breach | None:  # noqa: A002
    staff = await _require_dpo(info.context)
    recorded = await info.context.services.breaches.record(staff.staff_id, input.facts())
    return Breach.from_record(recorded, utc_now())


async def add_breach_entry(info: Info, id: strawberry.ID, input: BreachEntryInput) -> Breach | None:  # noqa: A002
    staff = await _require_dpo(info.context)
    updated = await info.context.services.breaches.add_entry(staff.staff_id, required_id("Breach", id, "breach"),
                                                             input.changes())
    return Breach.from_record(updated, utc_now())
