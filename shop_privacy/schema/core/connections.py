"""Relay connections (`first`/`after`, `pageInfo`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from ...pagination import Page

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    # Like an edge's, the first and last cursors are made only if asked for.
    page_cursors: strawberry.Private[Sequence[str]]

    @strawberry.field
    def start_cursor(self) -> str | None:
        return self.page_cursors[0] if self.page_cursors else None

    @strawberry.field
    def end_cursor(self) -> str | None:
        return self.page_cursors[-1] if self.page_cursors else None


@strawberry.type
class Edge(Generic[Node]):
    node: Node
    # The cursor is made only if asked for (see `pagination.Made`).
    page_cursors: strawberry.Private[Sequence[str]]
    index: strawberry.Private[int]

    @strawberry.field
    def cursor(self) -> str:
        return self.page_cursors[self.index]


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [edge.node for edge in self.edges]


def connection_from_page(page: Page[Row], to_node: Callable[[Row], Node]) -> Connection[Node]:
    cursors = page.cursors
    edges = [Edge(node=to_node(item), page_cursors=cursors, index=index) for index, item in enumerate(page.items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            page_cursors=cursors,
        ),
    )
