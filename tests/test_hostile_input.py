"""Hostile input (P06): card numbers however written, characters that cannot be stored, nesting, huge
headers, a variable standing for @purpose, invisible characters in names and addresses, impossible
organisation numbers, and the client-chosen strings that are stored as given (idempotency key,
X-Request-ID). Every refusal is a clean error with a stable code, never a 500."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlmodel import select
from starlette.applications import Starlette

from shop_privacy.privacy.card_numbers import contains_card_number, has_room_for_card_number, luhn_valid
from shop_privacy.services import Services
from shop_privacy.storage.tables import Order
from shop_privacy.validation import OrgNumber

from .helpers import (
    ADD_TO_CART,
    CHECKOUT,
    COMPLETE_PROFILE,
    LOGIN,
    REGISTER,
    UPDATE_PROFILE,
    StorefrontClient,
    create_customer,
    login,
    product_ids,
    staff_client,
)

pytestmark = pytest.mark.anyio

BOUNDED = settings(max_examples=200, derandomize=True, deadline=None)

# Real issuer prefixes (IIN ranges) and the lengths their cards come in, 13–19 digits.
ISSUERS: list[tuple[str, tuple[int, ...]]] = [
    ("4", (13, 16, 19)),  # Visa
    *((str(p), (16,)) for p in range(51, 56)),  # Mastercard
    ("2221", (16,)), ("2720", (16,)),  # Mastercard 2-series
    ("34", (15,)), ("37", (15,)),  # American Express
    ("6011", (16, 19)), ("65", (16, 19)), ("644", (16,)),  # Discover
    ("3528", (16, 19)), ("3589", (16,)),  # JCB
    ("36", (14,)), ("300", (14,)),  # Diners Club
    ("62", (16, 17, 18, 19)),  # UnionPay
    ("6759", (13, 16, 19)), ("50", (13, 16)),  # Maestro
]
# Zero for each digit script: ASCII, Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai,
# full-width, and the mathematical bold, double-struck, sans-serif and monospace digits.
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7F6]
SEPARATORS = [" ", "  ", "   ", ".", ". ", "/", " / ", "_", ",", ", ", "-", " - ", "\u00a0", "\u2009", "\u202f",
              "\u2007", "\u3000", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d",
              "\u200b", "\u2060", "\t", "\n"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066", "\u2069"]
# Surrounding text without a digit of any script.
TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöÅÄÖéüß БДЖжщ!?:;()@#'\"", max_size=30)


def _with_check_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def pans(draw: st.DrawFn) -> str:
    prefix, lengths = draw(st.sampled_from(ISSUERS))
    length = draw(st.sampled_from(lengths))
    middle = draw(st.text(alphabet="0123456789", min_size=length - len(prefix) - 1,
                          max_size=length - len(prefix) - 1))
    return _with_check_digit(prefix + middle)


@st.composite
def written(draw: st.DrawFn, digits: str, *, split: bool = True) -> str:
    """`digits` as someone might type or paste them: any scripts, groups, separators, invisibles."""
    scripts = draw(st.lists(st.sampled_from(DIGIT_ZEROS), min_size=len(digits), max_size=len(digits)))
    chars = [chr(zero + int(digit)) for zero, digit in zip(scripts, digits, strict=True)]
    out: list[str] = []
    for index, char in enumerate(chars):
        if index and split and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        elif index and draw(st.integers(0, 7)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
        out.append(char)
    return "".join(out)


@BOUNDED
@given(st.data())
def test_p06_a_pan_is_found_in_any_script_separators_and_invisible_characters(data: st.DataObject) -> None:
    pan = data.draw(pans())
    text = data.draw(TEXT) + data.draw(written(pan)) + data.draw(TEXT)
    assert contains_card_number(text), (pan, text)


@BOUNDED
@given(st.data())
def test_p06_luhn_invalid_numbers_and_short_runs_are_not_card_numbers(data: st.DataObject) -> None:
    pan = data.draw(pans())
    wrong = pan[:-1] + str((int(pan[-1]) + data.draw(st.integers(1, 9))) % 10)
    # One unbroken run (invisible characters only): no part of it is a whole group of its own.
    assert not contains_card_number(data.draw(TEXT) + " " + data.draw(written(wrong, split=False)) + " "
                                    + data.draw(TEXT))
    short = data.draw(st.text(alphabet="0123456789", min_size=1, max_size=11))
    assert not contains_card_number(data.draw(TEXT) + " " + data.draw(written(short)) + " " + data.draw(TEXT))


@pytest.mark.policy("P06")
def test_p06_everyday_text_with_numbers_is_not_taken_for_a_card_number() -> None:
    for harmless in ("Storgatan 12, 111 22 Stockholm", "+46 70 123 45 67", "556036-0793", "Order SP-20261123-ABC123",
                     "Box 1234, 123 45 Göteborg", "1.000.000 kr"):
        assert not contains_card_number(harmless), harmless


CARD_FORMATS = ["4111.1111.1111.1111", "4111/1111/1111/1111", "4111_1111_1111_1111", "4111,1111,1111,1111",
                "4111\u00a01111\u20091111\u202f1111", "4111  1111  1111  1111", "4111\u20131111\u20141111\u22121111",
                "4\u200b111\u200b1111\u200b1111\u200b1111", "٤١١١ ١١١١ ١١١١ ١١١١", "४१११-११११-११११-११११",
                "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏", "４１１１ １１１１ １１１１ １１１１"]


@pytest.mark.policy("P06")
@pytest.mark.parametrize("card", CARD_FORMATS)
async def test_p06_a_card_number_in_any_format_is_refused_before_anything_runs(
    client: StorefrontClient, services: Services, unique_email: str, card: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    response = await client.gql(UPDATE_PROFILE, {"input": {"address": {"street": f"Kort {card}"}}})
    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["reason"] == "card_number"
    assert response.errors[0]["extensions"]["fields"] == ["street"]


# Characters that cannot be stored, on both databases


async def _raw(client: StorefrontClient, body: Any, path: str = "/graphql", **headers: str) -> Any:
    """Posts `body` as JSON written by hand: json.dumps escapes a lone surrogate, httpx would refuse it."""
    return await client.http.post(path, content=json.dumps(body), headers={"content-type": "application/json",
                                                                           **headers})


@pytest.mark.policy("P06")
async def test_p06_a_nul_byte_or_lone_surrogate_in_any_input_is_a_clean_bad_user_input(
    app: Starlette, client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    staff = await staff_client(app, services, "support")
    cases = [
        (client, {"query": LOGIN, "variables": {"input": {"email": f"a\x00{unique_email}", "password": "x" * 12}}}),
        (client, {"query": LOGIN, "variables": {"input": {"email": unique_email, "password": "Lösen\ud800ord-2026"}}}),
        (client, {"query": REGISTER, "variables": {"input": {"email": unique_email, "password": "Long-enough-pass-1",
                                                            "firstName": "Anna", "lastName": "Sven\x00sson"}}}),
        (client, {"query": 'mutation { requestPasswordReset(email: "anna\\u0000@exempel.se") { accepted } }'}),
        (staff, {"query": 'query @purpose(use: CUSTOMER_SERVICE) { customers(search: "anna\\u0000", first: 5) '
                          "{ edges { node { id } } } }"}),
    ]
    for sender, body in cases:
        response = await _raw(sender, body, sender.path)
        assert response.status_code == 200, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (body, error)
        assert error["extensions"]["reason"] == "invalid_characters"
    await staff.http.aclose()


@pytest.mark.policy("P06")
async def test_p06_deeply_nested_json_is_a_400_not_a_500(client: StorefrontClient) -> None:
    nested = "[" * 10_000 + "]" * 10_000
    body = '{"query": "query($a: [String]) { __typename }", "variables": {"a": ' + nested + "}}"
    response = await client.http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # The same in the query string, which the GraphQL view decodes before it refuses a GET.
    response = await client.http.get("/graphql", params={"query": "{ __typename }", "variables": nested})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Brackets inside strings are text, and ordinary nesting passes.
    in_a_string = await client.gql("query($a: String) { products(first: 1, after: $a) { edges { cursor } } }",
                                   {"a": "[" * 10_000})
    assert in_a_string.status == 200 and in_a_string.codes == ["BAD_USER_INPUT"]  # not a cursor, but parsed


@pytest.mark.policy("P06")
@pytest.mark.parametrize("header", ["cookie", "authorization", "x-cart-token"])
async def test_p06_an_over_long_header_is_refused_cleanly(client: StorefrontClient, header: str) -> None:
    value = {"cookie": "sp_session=", "authorization": "Bearer "}.get(header, "") + "a" * 64 * 1024
    response = await client.http.post("/graphql", json={"query": "{ me { id } }"}, headers={header: value})
    assert response.status_code == 431
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert (await client.gql("{ me { id } }")).status == 200


@pytest.mark.policy("P06")
async def test_p06_a_variable_for_the_declared_purpose_is_refused_not_a_500(
    app: Starlette, services: Services
) -> None:
    staff = await staff_client(app, services, "support")
    query = "query Q($p: Purpose!) @purpose(use: $p) { customers(first: 1) { edges { node { id } } } }"
    for variables in ({"p": "CUSTOMER_SERVICE"}, {"p": "customer_service"}, {}, {"p": ["x"]}):
        response = await staff.gql(query, variables)
        assert response.status == 200
        assert response.codes == ["BAD_USER_INPUT"], response.body
        assert response.errors[0]["extensions"]["reason"] == "purpose_not_literal"
    literal = "query @purpose(use: CUSTOMER_SERVICE) { customers(first: 1) { edges { node { id } } } }"
    (await staff.gql(literal)).ok()
    await staff.http.aclose()


# Invisible characters in names and addresses


@pytest.mark.policy("P06")
@pytest.mark.parametrize(("profile", "field"), [
    ({"firstName": "Anna\u202eannA"}, "first_name"),
    ({"lastName": "Svens\u200bson"}, "last_name"),
    ({"companyName": "\u2066Exempel AB\u2069"}, "company_name"),
    ({"address": {**COMPLETE_PROFILE["address"], "street": "Storgatan\ufeff 1"}}, "address.street"),  # type: ignore[dict-item]
    ({"address": {**COMPLETE_PROFILE["address"], "city": "Stock\u200dholm"}}, "address.city"),  # type: ignore[dict-item]
    ({"address": {**COMPLETE_PROFILE["address"], "postalCode": "111\u200b22"}}, "address.postal_code"),  # type: ignore[dict-item]
    ({"firstName": "Anna\x07"}, "first_name"),
])
async def test_p06_bidi_and_invisible_characters_are_refused_in_names_and_addresses(
    client: StorefrontClient, services: Services, unique_email: str, profile: dict[str, object], field: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    response = await client.gql(UPDATE_PROFILE, {"input": profile})
    assert response.codes == ["BAD_USER_INPUT"]
    assert [f["field"] for f in response.errors[0]["extensions"]["fields"]] == [field]


@pytest.mark.policy("P06")
async def test_p06_joiners_stay_allowed_where_a_script_needs_them(
    client: StorefrontClient, services: Services, unique_email: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    persian = "نیک\u200cنام"  # a zero-width non-joiner between two joining letters
    updated = (await client.gql(UPDATE_PROFILE, {"input": {"lastName": persian}})).ok()
    assert updated["updateProfile"]["customer"] is not None


# Organisation numbers


@pytest.mark.policy("P06")
@pytest.mark.parametrize("number", ["000000-0000", "0000000000", "16000000-0000", "201313-0003", "811299-9878"])
async def test_p06_checksum_valid_but_impossible_org_numbers_are_refused(
    client: StorefrontClient, services: Services, unique_email: str, number: str
) -> None:
    from stdnum import luhn

    digits = number.replace("-", "")[-10:]
    number = number[:-1] + luhn.calc_check_digit(digits[:-1])  # checksum-valid, so only the rules refuse it
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    response = await client.gql(UPDATE_PROFILE, {"input": {"organisationNumber": number}})
    assert response.codes == ["BAD_USER_INPUT"], (number, response.body)
    assert [f["field"] for f in response.errors[0]["extensions"]["fields"]] == ["organisation_number"]


@pytest.mark.policy("P06")
@pytest.mark.parametrize(("number", "stored"), [("556036-0793", "556036-0793"), ("165560360793", "556036-0793"),
                                                 ("811218-9876", "811218-9876"), ("198112189876", "811218-9876")])
async def test_p06_real_org_and_sole_trader_numbers_still_pass(
    client: StorefrontClient, services: Services, unique_email: str, number: str, stored: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    updated = (await client.gql(UPDATE_PROFILE, {"input": {"organisationNumber": number}})).ok()
    assert updated["updateProfile"]["customer"]["organisationNumber"] == stored


# Client-chosen strings stored as given: the idempotency key and X-Request-ID


@pytest.mark.policy("P06")
def test_p06_opaque_keys_without_room_for_a_card_number() -> None:
    for fine in ("checkout-key-0001", "race-key-0001", "retry-me-000001", "two-proc-0001", "double-submit-1",
                 "a1b2c3d4e5f6a7b8", "12345678901-abc"):
        assert not has_room_for_card_number(fine), fine
    for holding in ("4111111111111111", "4111-1111-1111-1111", "4111_1111_1111_1111", "key-123456789012",
                    "ab1234-5678-9012cd"):
        assert has_room_for_card_number(holding), holding


@pytest.mark.policy("P06")
@pytest.mark.parametrize("key", ["4111111111111111", "4111-1111-1111-1111", "order_4111_1111_1111_1111",
                                 "3f2a9c0e8b7d4a16120123456789a0bd", "12345678-1234-5678-1234-567812345678"])
async def test_p06_an_idempotency_key_is_never_stored_whatever_digits_it_holds_only_its_keyed_hash(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str, key: str
) -> None:
    # A random UUID (hex, or with dashes) can hold 12 digits in a row: such keys used to be refused
    # about once in thirty checkouts. Now any well-formed key is taken, and none is kept as given.
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    (await client.gql(UPDATE_PROFILE, {"input": COMPLETE_PROFILE})).ok()
    products = await product_ids(client)
    (await client.gql(ADD_TO_CART, {"input": {"productId": products["SSL-DV"]}})).ok()
    checkout = {"input": {"paymentMethod": "CARD_STRIPE", "idempotencyKey": key}}
    placed = (await client.gql(CHECKOUT, checkout)).ok()["checkout"]
    assert (await client.gql(CHECKOUT, checkout)).ok()["checkout"]["id"] == placed["id"]  # still idempotent
    async with services.db.reader() as session:
        stored = (await session.exec(select(Order.idempotency_key))).all()
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{64}", stored[0]) and key not in stored[0]
    assert stored[0] == services.signer.keyed_hash("idempotency_key", key)


@pytest.mark.policy("P06")
@pytest.mark.parametrize("key", ["short", "has space here", "a" * 65, "kort\u00e9-0001"])
async def test_p06_an_idempotency_key_that_is_not_well_formed_is_refused_cleanly(
    client: StorefrontClient, services: Services, catalogue: dict, unique_email: str, key: str
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()
    response = await client.gql(CHECKOUT, {"input": {"paymentMethod": "CARD_STRIPE", "idempotencyKey": key}})
    assert response.codes == ["BAD_USER_INPUT"], response.body
    assert key not in json.dumps(response.body, ensure_ascii=False)


@pytest.mark.policy("P06")
@pytest.mark.parametrize("offered", ["4111111111111111", "4111-1111-1111-1111", "req-123456789012", "short",
                                     "a" * 65, "has space here", "kort\u00e9-0001"])
async def test_p06_a_request_id_that_is_not_well_formed_is_replaced_never_echoed(
    client: StorefrontClient, offered: str
) -> None:
    header = offered.encode("utf-8")  # raw bytes, as a client may send them
    answered = await client.http.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": header})
    assert answered.headers["x-request-id"].encode() != header
    assert not has_room_for_card_number(answered.headers["x-request-id"])
    # An error names the request id in its body too: the replacement, the same as in the header.
    refused = await client.http.post("/graphql", content=b"{}", headers={"x-request-id": header,
                                                                        "content-type": "text/plain"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["requestId"] == refused.headers["x-request-id"]
    assert refused.headers["x-request-id"].encode() != header and header not in refused.content


@pytest.mark.policy("P06")
async def test_p06_a_well_formed_request_id_is_kept(client: StorefrontClient) -> None:
    answered = await client.http.post("/graphql", json={"query": "{ __typename }"},
                                      headers={"x-request-id": "edge-7f3a9c21-0001"})
    assert answered.headers["x-request-id"] == "edge-7f3a9c21-0001"


def _with_check_digit(digits: str) -> str:
    from stdnum import luhn

    return digits + luhn.calc_check_digit(digits)


@pytest.mark.policy("P06")
@given(st.data())
def test_p06_every_legal_person_number_passes_and_every_one_digit_error_is_refused(data: st.DataObject) -> None:
    # A legal person: group digit 1-9, third digit at least 2, any six more digits, a Luhn check digit.
    digits = data.draw(st.tuples(st.integers(1, 9), st.integers(0, 9), st.integers(2, 9),
                                 st.lists(st.integers(0, 9), min_size=6, max_size=6)))
    number = _with_check_digit(f"{digits[0]}{digits[1]}{digits[2]}{''.join(map(str, digits[3]))}")
    org_number = TypeAdapter(OrgNumber)
    formatted = f"{number[:6]}-{number[6:]}"
    assert org_number.validate_python(number) == formatted
    assert org_number.validate_python(f"16{formatted}") == formatted
    # Luhn catches every single-digit error, so each such typo is refused.
    position = data.draw(st.integers(0, 9))
    typo = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    with pytest.raises(ValidationError):
        org_number.validate_python(number[:position] + typo + number[position + 1:])


@pytest.mark.policy("P06")
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 12, 31)), st.integers(0, 999), st.booleans())
def test_p06_a_sole_traders_number_passes_only_with_a_real_date_of_birth(
    born: date, serial: int, coordination: bool
) -> None:
    day = born.day + (60 if coordination else 0)  # a coordination number adds 60 to the day
    number = _with_check_digit(f"{born:%y%m}{day:02d}{serial:03d}")
    org_number = TypeAdapter(OrgNumber)
    assert org_number.validate_python(f"{born.year // 100}{number}") == f"{number[:6]}-{number[6:]}"
    impossible_day = _with_check_digit(f"{born:%y%m}{(32 if not coordination else 92):02d}{serial:03d}")
    with pytest.raises(ValidationError):
        org_number.validate_python(impossible_day)
