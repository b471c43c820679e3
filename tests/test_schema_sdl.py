"""The @personal directive is derived from the declarations and printed on every personal field (P02)."""

from __future__ import annotations

from pathlib import Path

import pytest
import strawberry
from graphql import FieldDefinitionNode, InputValueDefinitionNode, parse

from shop_privacy.privacy.declarations import PersonalData
from shop_privacy.schema.core.personal import PersonalField, PrivacySchemaError, check_schema, personal
from shop_privacy.schema.core.schema import build_schema
from shop_privacy.schema.export import FILES, sdl
from shop_privacy.settings import Settings
from shop_privacy.storage.columns import PRIVACY_INFO_KEY
from shop_privacy.storage.inventory import declared_columns
from shop_privacy.storage.tables import Customer as CustomerRow

ROOT = Path(__file__).resolve().parent.parent

# Declared personal columns no GraphQL field shows, and why. Anything else must be exposed with @personal.
NOT_EXPOSED = {
    "customers.password_hash": "a secret, never shown",
    "customers.updated_at": "bookkeeping of the row",
    "pending_registrations": "confirmation state, not shown until it is an account",
    "auth_sessions": "sessions are shown by the export (data-subject rights)",
    "password_reset_tokens": "secrets",
    "login_throttle": "keyed hashes for throttling only",
    "orders.ip_address": "fraud prevention only; shown by the export",
    "staff_users.password_hash": "a secret",
    "staff_users.last_login_at": "staff administration only",
    "staff_sessions": "sessions",
    "consents.visitor_key": "a hash of the visitor's cookie: a key, never shown",
    "outbox_messages": "messages to recipients, delivered and dropped; their fields are logged as disclosures",
    "carts.updated_at": "bookkeeping of the row",
    "account_mails": "mails queued to the customer, cleared soon after sending; shown by the export",
    "erasure_ledger": "kept for erased customers only, to erase them again in a restored backup; in the export",
    "processing_limits": "shown through the requests' reports and Customer.processingRestricted; in the export",
}

# Fields that are not personal fields although their type carries personal data, and why.
PLAIN_FIELDS = {
    "Customer.id", "Customer.address", "Customer.processingRestricted",
    "Order.id", "Order.customerId", "Order.contact", "Order.lines",
    "OrderContact.address", "Cart.id", "Cart.lines", "CartLine.id", "StaffMember.id",
    "AccessLogEntry.sequence", "AccessLogEntry.staffMemberId", "AccessLogEntry.subjectId",
    "AccessLogEntry.requestId", "LoginPayload.customer", "LoginPayload.cartMerged", "LoginPayload.sessionToken",
    "UpdateProfilePayload.customer", "UpdateProfilePayload.emailChangePending", "StaffLoginPayload.staffMember",
    "StaffLoginPayload.sessionToken", "SubjectRequest.id", "SubjectRequest.customerId",
    "DataExportPayload.downloadUrl", "DataExportPayload.expiresAt", "DataExportPayload.request",
    "ConsentRecord.source", "ConsentRecord.policyVersion", "ConsentState.history",
    # The order's changes of state; who made them is a staff id or a payment provider's name.
    "Order.history", "OrderEvent.staffMemberId", "OrderEvent.provider",
    # A disclosure's opaque id, and whether it is confidential now (from confidentialUntil; the DPO only).
    "DisclosureEntry.id", "DisclosureEntry.confidential",
    # The cookie banner's questions are the shop's declarations; only the answers are the visitor's.
    "CookieConsent.purposes", "CookiePurpose.purpose", "CookiePurpose.description", "CookiePurpose.tags",
}
# Types that hold no personal data of their own (catalogue, money amounts, paging; the breach register,
# which records categories and counts of what a breach touched, never who, and the DPO's staff id).
PLAIN_TYPES = {"Product", "Money", "TaxedMoney", "PageInfo", "Accepted", "PrivacyNotice", "CookieTag", "Query",
               "Mutation", "Breach", "BreachEntry"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_checked_in_sdl_matches_the_code(name: str) -> None:
    checked_in = (ROOT / name).read_text(encoding="utf-8")
    assert checked_in == sdl(name), f"{name} is out of date: run `shop-privacy schema write`"


def _schemas() -> list[strawberry.Schema]:
    return [factory(Settings()) for factory in FILES.values()]


def _personal_fields(schema: strawberry.Schema) -> dict[str, PersonalField]:
    found = {}
    for type_name, graphql_type in schema._schema.type_map.items():
        for field_name, field in (getattr(graphql_type, "fields", None) or {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if isinstance(definition, PersonalField):
                found[f"{type_name}.{field_name}"] = definition
    return found


@pytest.mark.policy("P02")
@pytest.mark.parametrize("name", sorted(FILES))
def test_p02_every_personal_field_carries_personal_in_the_printed_sdl_derived_from_its_declaration(name: str) -> None:
    schema = FILES[name](Settings())
    document = parse(schema.as_str())
    printed = {}
    for definition in document.definitions:
        for field in getattr(definition, "fields", None) or ():
            if isinstance(field, FieldDefinitionNode | InputValueDefinitionNode):
                printed[f"{definition.name.value}.{field.name.value}"] = {
                    d.name.value: d for d in field.directives or ()}
    personal_fields = _personal_fields(schema)
    assert personal_fields
    for path, field in personal_fields.items():
        directive = printed[path].get("personal")
        assert directive is not None, f"{path} lacks @personal"
        arguments = {a.name.value: a.value for a in directive.arguments}
        assert [v.value for v in arguments["categories"].values] == list(field.declaration.categories)
        assert [v.value for v in arguments["purposes"].values] == list(field.declaration.purposes)


@pytest.mark.policy("P02")
def test_p02_every_declared_personal_column_is_exposed_only_through_personal_fields() -> None:
    exposed = {column for schema in _schemas() for f in _personal_fields(schema).values() for column in f.columns}
    for column in declared_columns():
        name = f"{column.table}.{column.column}"
        if not isinstance(column.declaration, PersonalData):
            continue
        if name in NOT_EXPOSED or column.table in NOT_EXPOSED:
            assert name not in exposed, f"{name} is listed as not exposed but a field shows it"
            continue
        assert name in exposed, f"{name} is declared personal but no @personal field exposes it"


@pytest.mark.policy("P02")
def test_p02_no_plain_field_sits_beside_personal_data_unlisted() -> None:
    for schema in _schemas():
        personal_fields = _personal_fields(schema)
        for type_name, graphql_type in schema._schema.type_map.items():
            fields = getattr(graphql_type, "fields", None)
            if type_name.startswith("__") or type_name in PLAIN_TYPES or not fields or \
                    type_name.endswith(("Connection", "Edge")) or hasattr(graphql_type, "of_type"):
                continue
            if getattr(graphql_type, "ast_node", None) is None and type(graphql_type).__name__ != "GraphQLObjectType":
                continue
            for field_name in fields:
                path = f"{type_name}.{field_name}"
                assert path in personal_fields or path in PLAIN_FIELDS, (
                    f"{path} is neither a personal field nor listed as plain: declare what it exposes")


@pytest.mark.policy("P02")
def test_p02_input_fields_that_carry_personal_data_carry_personal_too() -> None:
    document = parse(sdl("schema.graphql"))
    inputs = {d.name.value: d for d in document.definitions if d.kind == "input_object_type_definition"}
    for type_name, field_name in [("RegisterInput", "email"), ("UpdateProfileInput", "phone"),
                                  ("CheckoutInput", "organisationNumber"), ("AddressInput", "street"),
                                  ("AddToCartInput", "domainName")]:
        field = next(f for f in inputs[type_name].fields if f.name.value == field_name)
        assert [d.name.value for d in field.directives] == ["personal"], f"{type_name}.{field_name}"


@strawberry.type
class Leaky:
    email: str = personal(CustomerRow.email)
    privacy: strawberry.Private[object] = None


@strawberry.type
class LeakyQuery:
    @strawberry.field
    def leaky(self) -> Leaky | None:
        return None


@strawberry.type
class NoContext:
    email: str | None = personal(CustomerRow.email)


@strawberry.type
class NoContextQuery:
    @strawberry.field
    def thing(self) -> NoContext | None:
        return None


def test_a_non_null_personal_field_is_refused_when_the_schema_is_built() -> None:
    with pytest.raises(PrivacySchemaError, match="Leaky.email is non-null"):
        build_schema(LeakyQuery, None, Settings())  # type: ignore[arg-type]


def test_a_type_with_personal_fields_needs_its_privacy_context() -> None:
    with pytest.raises(PrivacySchemaError, match="NoContext has personal fields but no `privacy`"):
        check_schema(strawberry.Schema(NoContextQuery))


def test_personal_needs_a_declared_personal_column() -> None:
    from shop_privacy.storage.tables import Product

    with pytest.raises(TypeError, match="products.name is not declared personal"):
        personal(Product.name)
    assert CustomerRow.__table__.columns["email"].info[PRIVACY_INFO_KEY].categories == ("user.contact.email",)
