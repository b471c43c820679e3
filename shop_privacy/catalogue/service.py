"""Reading the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..pagination import Page, check_page_size, decode_cursor, encode_cursor, page_of
from ..storage.tables import Product

_CURSOR = "product"


class CatalogueService:
    def __init__(self, max_page_size: int) -> None:
        self._max_page_size = max_page_size

    async def list_products(self, session: AsyncSession, *, first: int, after: str | None) -> Page[Product]:
        first = check_page_size(first, self._max_page_size)
        query = select(Product).where(col(Product.active).is_(True))
        if after is not None:
            position, after_id = decode_cursor(_CURSOR, after, int, uuid.UUID)
            query = query.where(
                (col(Product.position) > position)
                | ((col(Product.position) == position) & (col(Product.id) > after_id))
            )
        rows = list((await session.exec(query.order_by(col(Product.position), col(Product.id)).limit(first + 1))).all())
        return page_of(rows, first, after, lambda p: encode_cursor(_CURSOR, p.position, str(p.id)))

    async def products_by_id(self, session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Product]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = (await session.exec(select(Product).where(col(Product.id).in_(wanted)))).all()
        return {row.id: row for row in rows}
