"""Catalogue resolvers."""

from __future__ import annotations

import strawberry

from ..schema.catalogue.types import Product, ProductConnection
from ..schema.core.connections import connection_from_page
from ..schema.core.context import StorefrontContext
from ..schema.core.ids import decode_id
from ..schema.privacy_notice import PrivacyNotice

Info = strawberry.Info[StorefrontContext, None]


def privacy_notice(info: Info) -> PrivacyNotice:
    return PrivacyNotice.from_settings(info.context.services.settings)


async def products(info: Info, first: int = 20, after: str | None = None) -> ProductConnection:
    context = info.context
    async with context.read() as session:
        page = await context.services.catalogue.list_products(session, first=first, after=after)
    return connection_from_page(page, Product.from_row)


async def product(info: Info, id: strawberry.ID) -> Product | None:  # noqa: A002 - GraphQL's name
    product_id = decode_id("Product", id)
    if product_id is None:
        return None
    context = info.context
    async with context.read() as session:
        rows = await context.services.catalogue.products_by_id(session, [product_id])
    row = rows.get(product_id)
    return Product.from_row(row) if row is not None and row.active else None
