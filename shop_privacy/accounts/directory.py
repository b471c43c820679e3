"""Finding customers, for staff: an exact e-mail address or the start of a name."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import BadUserInput
from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.tables import Customer

_CURSOR = "customer"  # keyed on creation time and id: a cursor never carries a name or address


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class CustomerDirectory:
    def __init__(self, max_page_size: int) -> None:
        self._max_page_size = max_page_size

    async def search(self, session: AsyncSession, search: str | None, *, first: int,
                     after: str | None) -> Page[Customer]:
        first = check_page_size(first, self._max_page_size)
        query = select(Customer)
        term = (search or "").strip().lower()
        if "@" in term:
            query = query.where(Customer.email == term)
        elif term:
            if len(term) < 2:
                raise BadUserInput("Search with at least two letters of a name, or a whole e-mail address.",
                                   reason="search_too_short")
            pattern = _like_prefix(term)
            full_name = func.lower(col(Customer.first_name) + " " + col(Customer.last_name))
            query = query.where(or_(
                func.lower(col(Customer.first_name)).like(pattern, escape="\\"),
                func.lower(col(Customer.last_name)).like(pattern, escape="\\"),
                full_name.like(pattern, escape="\\"),
            ))
        if after is not None:
            created_at, after_id = decode_cursor(_CURSOR, after, datetime.fromisoformat, uuid.UUID)
            query = query.where(
                (col(Customer.created_at) > created_at)
                | ((col(Customer.created_at) == created_at) & (col(Customer.id) > after_id))
            )
        rows = list((await session.exec(
            query.order_by(col(Customer.created_at), col(Customer.id)).limit(first + 1)
        )).all())
        return page_of(rows, first, after, lambda c: encode_cursor(_CURSOR, c.created_at.isoformat(), str(c.id)))

    async def get(self, session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
        return await session.get(Customer, customer_id)
