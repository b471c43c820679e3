"""A page's cursors are made only when asked for (P12: paginated order history): most requests show few
of them or none, and making a staff cursor encrypts the row's sort key."""

from __future__ import annotations

import pytest

from shop_privacy.pagination import Made, decode_cursor, page_of
from shop_privacy.services import Services

from .helpers import StorefrontClient, create_customer, login, seed_orders

pytestmark = pytest.mark.anyio


@pytest.mark.policy("P12")
def test_p12_each_cursor_is_made_once_when_first_asked_for_and_indexes_like_a_list() -> None:
    made: list[int] = []

    def make(value: int) -> str:
        made.append(value)
        return f"c{value}"

    cursors = Made([10, 20, 30], make)
    assert len(cursors) == 3 and made == []
    assert cursors[-1] == "c30" and cursors[0] == "c10" and cursors[0] == "c10"
    assert made == [30, 10]  # each once, in the order asked
    assert cursors[1:] == ["c20", "c30"] and list(cursors) == ["c10", "c20", "c30"] and made == [30, 10, 20]
    with pytest.raises(IndexError):
        cursors[3]
    page = page_of([1, 2, 3], 2, None, lambda row: f"row-{row}")
    assert list(page.cursors) == ["row-1", "row-2"] and page.has_next_page


@pytest.mark.policy("P12")
async def test_p12_an_order_page_makes_only_the_cursors_it_shows(
    client: StorefrontClient, services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shop_privacy.orders.service as order_service

    customer_id = await create_customer(services, unique_email)
    await seed_orders(services, customer_id, 5, lines=1)
    (await login(client, unique_email)).ok()
    encoded: list[tuple[object, ...]] = []
    original = order_service.encode_cursor

    def counting(kind: str, *key: object) -> str:
        encoded.append(key)
        return original(kind, *key)

    monkeypatch.setattr(order_service, "encode_cursor", counting)
    (await client.gql("{ myOrders(first: 5) { edges { node { number } } pageInfo { hasNextPage } } }")).ok()
    assert encoded == []  # no cursor asked for
    page = (await client.gql("""query { myOrders(first: 3) { edges { cursor node { number } }
      pageInfo { endCursor hasNextPage } } }""")).ok()["myOrders"]
    cursors = [edge["cursor"] for edge in page["edges"]]
    assert len(encoded) == 3 and page["pageInfo"]["endCursor"] == cursors[-1] and page["pageInfo"]["hasNextPage"]
    placed_at, _ = decode_cursor("order", cursors[0], str, str)
    assert placed_at
    after = (await client.gql("""query($after: String) { myOrders(first: 3, after: $after) {
      edges { node { number } } } }""", {"after": cursors[-1]})).ok()["myOrders"]["edges"]
    assert len(after) == 2
