"""The throttle's counter row can be made and deleted by other logins between two statements of this
one (P21): a successful login deletes its account's row (`release`), so a guess that lost the race to
create the row may find it gone when it reads it. It must then make it again, not fail.

PostgreSQL only: on SQLite one writer holds the whole database, so nothing can act in between. The
other logins are a second connection driven from the engine's statement hook, at the exact points."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from shop_privacy.accounts.throttle import Throttle
from shop_privacy.services import Services
from shop_privacy.storage.tables import LoginThrottle
from shop_privacy.storage.urls import DatabaseURL

from .support import before_each_statement

pytestmark = [pytest.mark.anyio, pytest.mark.policy("P21")]


@contextmanager
def between_statements(services: Services, on_insert: Callable[[], None],
                       on_read_after_insert: Callable[[], None]) -> Iterator[None]:
    """Runs `on_insert` just before this process first inserts into login_throttle, and
    `on_read_after_insert` just before its next read of the table: once each."""
    state = {"inserted": False, "done": False}

    def hook(statement: str) -> None:
        if "login_throttle" not in statement or state["done"]:
            return
        if statement.lstrip().upper().startswith("INSERT") and not state["inserted"]:
            state["inserted"] = True
            on_insert()
        elif statement.lstrip().upper().startswith("SELECT") and state["inserted"]:
            state["done"] = True
            on_read_after_insert()

    with before_each_statement(services, hook):
        yield


async def test_p21_a_guess_whose_throttle_row_another_login_made_and_deleted_is_still_counted(
    services: Services, database_url: str
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("SQLite has one writer at a time: no other login can act between two statements")
    throttle = Throttle(services.settings, services.signer)
    keys = throttle.keys("gissad@example.se", None)
    url = DatabaseURL.parse(database_url).sync_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        def other_guess_made_the_row() -> None:
            other.execute("INSERT INTO login_throttle (key, failures, window_started_at) VALUES (%s, 1, now())",
                          (keys.account,))

        def other_login_succeeded_and_cleared_it() -> None:
            other.execute("DELETE FROM login_throttle WHERE key = %s", (keys.account,))

        with between_statements(services, other_guess_made_the_row, other_login_succeeded_and_cleared_it):
            async with services.db.transaction() as session:
                await throttle.reserve(session, keys)

    async with services.db.read() as session:
        row = await session.get(LoginThrottle, keys.account)
    assert row is not None and row.failures == 1
