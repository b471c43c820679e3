"""Erasure serialised with what it erases (P13, P24): an erasure and the customer's own checkout or
login take turns on the customer's lock; the inactivity sweep re-checks under that lock; two sweeps
at once open one request per customer; held erasures complete once their order is settled."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from starlette.applications import Starlette

from shop_privacy.carts.service import CartOwner
from shop_privacy.rights.requests import Channel, RequestKind
from shop_privacy.services import Services, build_services
from shop_privacy.storage.tables import Customer, Order, SubjectRequest
from shop_privacy.storage.types import utc_now

from ..conftest import client_for
from ..helpers import Outbox, StorefrontClient, login
from .support import Shopper, app_servers, at_once, codes_of, shoppers

pytestmark = pytest.mark.anyio

ERASE = "mutation { requestErasure { id status holdReason } }"
CHECKOUT = """mutation($key: String!) { checkout(input: { paymentMethod: CARD_STRIPE, idempotencyKey: $key }) {
  id status } }"""


async def _fill_carts(services: Services, made: list[list[Shopper]], catalogue: dict[str, uuid.UUID]) -> None:
    for [shopper] in made:
        await services.carts.add(CartOwner(shopper.customer_id, None), {"product_id": catalogue["SSL-DV"]})


async def _requests(services: Services, customer_id: uuid.UUID) -> list[SubjectRequest]:
    async with services.db.read() as session:
        return list((await session.exec(select(SubjectRequest).where(SubjectRequest.customer_id == customer_id))).all())


async def _orders(services: Services, customer_id: uuid.UUID) -> list[Order]:
    async with services.db.read() as session:
        return list((await session.exec(select(Order).where(Order.customer_id == customer_id))).all())


async def _exists(services: Services, customer_id: uuid.UUID) -> bool:
    async with services.db.read() as session:
        return await session.get(Customer, customer_id) is not None


async def _check_erasure_checkout_outcome(services: Services, shopper: Shopper, erase_body: dict,
                                          checkout_body: dict) -> str:
    """Either the order was placed whole and holds the erasure, or the erasure ran and the checkout was
    refused cleanly. Returns which."""
    [request] = await _requests(services, shopper.customer_id)
    if checkout_body.get("errors"):
        assert [e["extensions"]["code"] for e in checkout_body["errors"]] == ["UNAUTHENTICATED"], checkout_body
        assert request.status == "completed"
        assert not await _exists(services, shopper.customer_id)
        async with services.db.read() as session:  # no order was placed for anybody in the meantime
            assert (await session.exec(select(Order).where(col(Order.customer_id).is_(None)))).all() == []
        return "erased"
    assert not erase_body.get("errors"), erase_body
    [order] = await _orders(services, shopper.customer_id)
    # The order keeps its delivery contact: the erasure did not run over it.
    assert order.email and order.phone and order.address_street
    assert request.status == "on_hold" and order.order_number in (request.hold_reason or "")
    assert await _exists(services, shopper.customer_id)
    return "held"


@pytest.mark.policy("P24")
async def test_p24_p13_an_erasure_racing_the_customers_checkout_holds_or_refuses_it_and_never_deadlocks(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    client = client_for(app)
    made = await shoppers(services, 100, password_hash=password_hash)
    await _fill_carts(services, made, catalogue)
    seen = set()
    for index, [shopper] in enumerate(made):
        erase, checkout = await at_once([
            client.gql(ERASE, headers=shopper.headers),
            client.gql(CHECKOUT, {"key": f"erasure-race-{index:04d}"}, headers=shopper.headers),
        ])
        seen.add(await _check_erasure_checkout_outcome(services, shopper, erase.body, checkout.body))
    assert seen <= {"held", "erased"}
    await client.http.aclose()


@pytest.mark.policy("P24")
async def test_p24_erasure_and_checkout_in_two_app_processes_take_turns(
    database_url: str, tmp_path: Path, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    made = await shoppers(services, 20, password_hash=password_hash)
    await _fill_carts(services, made, catalogue)
    with app_servers(database_url, tmp_path) as servers:
        first, second = (server.client() for server in servers)
        for index, [shopper] in enumerate(made):
            erase, checkout = await at_once([
                first.gql(ERASE, headers=shopper.headers),
                second.gql(CHECKOUT, {"key": f"two-proc-erase-{index:04d}"}, headers=shopper.headers),
            ])
            await _check_erasure_checkout_outcome(services, shopper, erase.body, checkout.body)
        await first.http.aclose()
        await second.http.aclose()


async def _inactive(services: Services, made: list[list[Shopper]], *, warned: bool = True) -> None:
    """Unused for four years, and (if `warned`) warned two months ago: due for erasure now."""
    long_ago = utc_now() - timedelta(days=4 * 365)
    async with services.db.transaction() as session:
        await session.exec(update(Customer).where(col(Customer.id).in_([s.customer_id for [s] in made])).values(
            created_at=long_ago, last_login_at=long_ago,
            inactivity_warned_at=utc_now() - timedelta(days=60) if warned else None))  # type: ignore[call-overload]


async def _email(services: Services, customer_id: uuid.UUID) -> str:
    async with services.db.read() as session:
        customer = await session.get(Customer, customer_id)
    assert customer is not None
    return customer.email


@pytest.mark.policy("P24")
async def test_p24_the_inactivity_sweep_never_erases_a_customer_who_logged_in_during_it(
    app: Starlette, services: Services, password_hash: str
) -> None:
    for _round in range(2):
        made = await shoppers(services, 20, password_hash=password_hash)
        await _inactive(services, made)
        emails = {s.customer_id: await _email(services, s.customer_id) for [s] in made}
        # One address per shopper: the logins that find their account erased are failures, and forty from
        # one address would reach the per-address throttle (RATE_LIMITED) instead of answering.
        clients = [client_for(app, ip=f"198.51.100.{index + 1}") for index, _ in enumerate(made)]
        attempts = [login(c, emails[s.customer_id]) for c, [s] in zip(clients, made, strict=True)]
        sweep, *logins = await at_once([services.retention.run(), *attempts])
        for [shopper], response in zip(made, logins, strict=True):
            if response.errors:
                # Erased first: the login finds no account.
                assert response.codes == ["INVALID_CREDENTIALS"]
                assert not await _exists(services, shopper.customer_id)
            else:
                # Logged in: still there, whatever the sweep had read before.
                assert await _exists(services, shopper.customer_id), "erased a customer who had just logged in"
        assert sweep.erased == sum(1 for r in logins if r.errors)
        assert sweep.erased + sweep.spared <= 20
        for client in clients:
            await client.http.aclose()


@pytest.mark.policy("P24")
async def test_p24_an_erasure_re_checks_inactivity_under_the_lock_even_with_a_stale_list(
    app: Starlette, services: Services, password_hash: str
) -> None:
    """The sweep's list is read before the customers log in; the erasure must look again."""
    made = await shoppers(services, 4, password_hash=password_hash)
    await _inactive(services, made)
    dry = await services.retention.run(dry_run=True)
    assert dry.erased == 4
    client = client_for(app)
    for [shopper] in made[:2]:
        (await login(client, await _email(services, shopper.customer_id))).ok()
    result = await services.retention.run()
    assert (result.erased, result.spared) == (2, 0)  # the logins took them out of the list
    # Now the list itself is stale: it was read while they were due.
    made = await shoppers(services, 2, password_hash=password_hash)
    await _inactive(services, made)
    condition = services.retention.inactive_erasure_condition(utc_now())
    for [shopper] in made:
        (await login(client, await _email(services, shopper.customer_id))).ok()
        outcome = await services.rights.erase_if_still(shopper.customer_id, condition, Channel.RETENTION)
        assert outcome == "not_due" and await _exists(services, shopper.customer_id)
    await client.http.aclose()


@pytest.mark.policy("P24")
async def test_p24_two_sweeps_at_once_open_one_request_per_customer_and_warn_once(
    services: Services, outbox: Outbox, password_hash: str
) -> None:
    other = build_services(services.settings)  # a second process's services: its own engine and pool
    try:
        due = await shoppers(services, 6, password_hash=password_hash)
        await _inactive(services, due)
        to_warn = await shoppers(services, 5, password_hash=password_hash)
        await _inactive(services, to_warn, warned=False)
        warn_emails = {await _email(services, s.customer_id) for [s] in to_warn}
        first, second = await at_once([services.retention.run(), other.retention.run()])
        # Every due customer erased once, by one of the two, with one request; the other run skipped.
        for [shopper] in due:
            requests = await _requests(services, shopper.customer_id)
            assert [(r.kind, r.status) for r in requests] == [("erasure", "completed")]
            assert not await _exists(services, shopper.customer_id)
        assert first.erased + second.erased == 6
        assert first.warned + second.warned == 5
        await other.mailer.flush()  # both write to the one outbox folder
        mails = await outbox.messages(kind="inactivity_warning")
        warned = [m["To"] for m in mails]
        assert sorted(set(warned)) == sorted(warn_emails) and len(warned) == len(set(warned))
    finally:
        await other.mailer.flush()
        await other.close()


@pytest.mark.policy("P24")
async def test_p24_one_open_request_per_subject_and_kind_is_a_database_constraint(
    services: Services, password_hash: str
) -> None:
    [[shopper]] = await shoppers(services, 1, password_hash=password_hash)
    async with services.db.transaction() as session:
        services.rights.queue.open(session, shopper.customer_id, RequestKind.ERASURE, Channel.EMAIL)
    with pytest.raises(IntegrityError):
        async with services.db.transaction() as session:
            services.rights.queue.open(session, shopper.customer_id, RequestKind.ERASURE, Channel.RETENTION)
    # Another kind, or a closed one of the same kind, is fine.
    async with services.db.transaction() as session:
        services.rights.queue.open(session, shopper.customer_id, RequestKind.EXPORT, Channel.EMAIL)


@pytest.mark.policy("P24")
async def test_p24_asking_for_erasure_twice_at_once_opens_one_request(
    app: Starlette, services: Services, catalogue: dict[str, uuid.UUID], password_hash: str
) -> None:
    client = client_for(app)
    made = await shoppers(services, 1, password_hash=password_hash)
    await _fill_carts(services, made, catalogue)
    [[shopper]] = made
    (await client.gql(CHECKOUT, {"key": "hold-me-000001"}, headers=shopper.headers)).ok()  # holds the erasure
    answers = await at_once(client.gql(ERASE, headers=shopper.headers) for _ in range(6))
    assert codes_of(answers) == []
    assert len({a.data["requestErasure"]["id"] for a in answers}) == 1
    assert len(await _requests(services, shopper.customer_id)) == 1
    await client.http.aclose()


@pytest.mark.parametrize("settled_as", ["FULFILLED", "CANCELLED"])
@pytest.mark.policy("P13")
async def test_p13_p24_a_held_erasure_completes_once_its_order_is_settled_and_the_customer_is_mailed(
    app: Starlette, services: Services, outbox: Outbox, catalogue: dict[str, uuid.UUID], password_hash: str,
    settled_as: str,
) -> None:
    client: StorefrontClient = client_for(app)
    made = await shoppers(services, 2, password_hash=password_hash)
    await _fill_carts(services, made, catalogue)
    for index, [shopper] in enumerate(made):
        (await client.gql(CHECKOUT, {"key": f"held-{settled_as}-{index}"}, headers=shopper.headers)).ok()
        held = (await client.gql(ERASE, headers=shopper.headers)).ok()["requestErasure"]
        assert held["status"] == "ON_HOLD" and "not delivered yet" in held["holdReason"]
    [[settled]], [[waiting]] = made[:1], made[1:]
    email = await _email(services, settled.customer_id)
    async with services.db.transaction() as session:
        await session.exec(update(Order).where(col(Order.customer_id) == settled.customer_id)
                           .values(status=settled_as))  # type: ignore[call-overload]
    dry = await services.retention.run(dry_run=True)
    assert dry.resumed == 1
    result = await services.retention.run()
    assert result.resumed == 1
    [request] = await _requests(services, settled.customer_id)
    assert request.status == "completed" and not await _exists(services, settled.customer_id)
    assert [m["To"] for m in await outbox.messages(kind="erasure_done")] == [email]
    # The other order is still unsettled: its erasure still waits, with its reason.
    [still] = await _requests(services, waiting.customer_id)
    assert still.status == "on_hold" and await _exists(services, waiting.customer_id)
    assert (await services.retention.run()).resumed == 0
    await client.http.aclose()
