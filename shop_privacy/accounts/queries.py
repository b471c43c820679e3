"""Customer look-ups shared by the account services."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..storage.tables import Customer
from ..validation import normalise_email


async def customer_by_email(session: AsyncSession, email: str) -> Customer | None:
    return (await session.exec(select(Customer).where(Customer.email == normalise_email(email)))).first()
