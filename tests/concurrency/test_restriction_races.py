"""A restriction (GDPR Art. 18) placed while a marketing send is running (P19, P03): the send hands each
mail to the server under the customer's lock, re-checking there, so no mail goes out to a customer after
their restriction committed."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import psycopg
import pytest
from sqlalchemy import update

from shop_privacy.carts.service import CartOwner
from shop_privacy.consents.ledger import ConsentOwner
from shop_privacy.services import Services
from shop_privacy.storage.tables import Cart
from shop_privacy.storage.types import utc_now

from .support import RACE_SECONDS, before_each_statement, shoppers

pytestmark = pytest.mark.anyio

# The send's (and the restriction's) lock of one customer: `SELECT … FROM customers WHERE customers.id = …`.
_CUSTOMER_LOCK = re.compile(r"FROM customers\s+WHERE customers\.id\s*=", re.IGNORECASE)


def _restriction_could_commit_now(services: Services, customer_id: uuid.UUID) -> bool:
    """From another connection, without waiting: could a restriction of this customer take their lock (and so
    commit) right now? PostgreSQL: the row lock, NOWAIT. SQLite: the one write lock, with no busy timeout."""
    url = services.db.url.sync_url
    if services.db.url.is_sqlite:
        connection = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=False) as connection:
        try:
            connection.execute("SELECT id FROM customers WHERE id = %s FOR UPDATE NOWAIT", (customer_id,))
            return True
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            connection.rollback()


@pytest.mark.policy("P19")
@pytest.mark.policy("P03")
async def test_p19_a_restriction_placed_during_a_marketing_send_stops_every_later_mail(
    services: Services, password_hash: str, catalogue: dict[str, uuid.UUID]
) -> None:
    made = await shoppers(services, 4, password_hash=password_hash)
    customers = [shopper.customer_id for [shopper] in made]
    for customer_id in customers:
        await services.carts.add(CartOwner(customer_id, None), {"product_id": catalogue["SSL-DV"]})
        await services.consent_ledger.set(ConsentOwner(customer_id, None), "marketing", True, "checkout")
    async with services.db.transaction() as session:
        await session.exec(update(Cart).values(updated_at=utc_now() - timedelta(days=2)))  # type: ignore[call-overload]
    address_of = {c.customer_id: c.email for c in await services.abandoned_carts.candidates(timedelta(hours=24))}
    assert set(address_of) == set(customers)

    # One timeline of what happened: a mail handed to the server, a restriction committed.
    timeline: list[tuple[str, str]] = []
    customer_of = {address: customer_id for customer_id, address in address_of.items()}
    unguarded: list[str] = []
    backend: Any = services.mailer._backend
    deliver = backend.deliver

    def recording_deliver(message: EmailMessage) -> None:
        # While a mail is handed over, its customer's restriction must be unable to commit: else it could
        # commit between the send's check and this mail.
        if _restriction_could_commit_now(services, customer_of[str(message["To"])]):
            unguarded.append(str(message["To"]))
        deliver(message)
        timeline.append(("mail", str(message["To"])))

    backend.deliver = recording_deliver
    restrictions: list[asyncio.Task[None]] = []

    async def restrict(customer_id: uuid.UUID) -> None:
        await services.restrictions.request_restriction(customer_id, None)
        timeline.append(("restricted", address_of[customer_id]))

    def restrict_everyone_once_the_send_locks_a_customer(statement: str) -> None:
        if not restrictions and _CUSTOMER_LOCK.search(statement):
            loop = asyncio.get_running_loop()
            restrictions.extend(loop.create_task(restrict(customer_id)) for customer_id in customers)

    with before_each_statement(services, restrict_everyone_once_the_send_locks_a_customer):
        async with asyncio.timeout(RACE_SECONDS):
            sent = await services.abandoned_carts.send_reminders(timedelta(hours=24))
            await asyncio.gather(*restrictions)

    assert len(restrictions) == len(customers)  # the race happened: restrictions began mid-send
    assert not unguarded, f"mails handed over while a restriction could commit: {unguarded}"
    mails = [address for event, address in timeline if event == "mail"]
    assert len(mails) == sent and len(set(mails)) == sent
    for address in address_of.values():
        restricted_at = timeline.index(("restricted", address))
        assert ("mail", address) not in timeline[restricted_at:], timeline
    # The customer being mailed when the restrictions began was mailed: that send was already under way,
    # and its customer's restriction waited for it. (Other customers' restrictions, which wait for nobody,
    # may commit while that mail is being handed over, so they can come first in the timeline.)
    assert sent >= 1
    first = mails[0]
    assert timeline.index(("mail", first)) < timeline.index(("restricted", first)), timeline
    # Nothing more goes out once they are all restricted.
    assert await services.abandoned_carts.send_reminders(timedelta(hours=24)) == 0
