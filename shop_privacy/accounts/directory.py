"""Finding customers, for staff: an exact e-mail address or the start of a name."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import BadUserInput
from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..restriction.limits import stopped_for
from ..storage.tables import Customer

# Keyed on creation time and id, never a name or address; the creation time is personal data too, so
# the staff resolvers seal these cursors before handing them out (`pagination.CursorSealer`).
_CURSOR = "customer"


class SearchKind(enum.Enum):
    """What a search matches customers on: staff need a purpose that covers those columns, and the
    access log records it."""

    LIST = "list"  # no search term: every customer, oldest first
    EMAIL = "email"  # the exact address
    NAME = "name"  # the start of a first name, last name or full name


def search_kind(search: str | None) -> SearchKind:
    term = (search or "").strip()
    if "@" in term:
        return SearchKind.EMAIL
    return SearchKind.NAME if term else SearchKind.LIST


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class CustomerDirectory:
    def __init__(self, max_page_size: int) -> None:
        self._max_page_size = max_page_size

    async def search(self, session: AsyncSession, search: str | None, *, first: int,
                     after: str | None, purpose: str | None = None) -> Page[Customer]:
        """Under `purpose`, customers who restricted their processing or objected to that purpose are not
        matched at all: a search compares their data, which is processing too (Art. 18, 21)."""
        first = check_page_size(first, self._max_page_size)
        query = select(Customer).where(~stopped_for(purpose))
        term = (search or "").strip().lower()
        kind = search_kind(term)
        if kind is SearchKind.EMAIL:
            query = query.where(Customer.email == term)
        elif kind is SearchKind.NAME:
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
