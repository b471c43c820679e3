"""The Schema class both endpoints use, and the security extensions every schema gets."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.directives import DirectivesExtension, DirectivesExtensionSync
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from ...settings import Settings
from .errors import ErrorCodes, log_unexpected
from .input_guard import RejectCardNumbers
from .personal import check_schema
from .privacy_extension import PrivacyExtension


class ShopSchema(strawberry.Schema):
    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        # Our only executable directive, @purpose, sits on the operation and is read by the privacy
        # extension. Strawberry's field-directive runner would wrap every field's resolver (making
        # each one async) to look for field directives that cannot occur: leave it out.
        return [e for e in super().get_extensions(sync)
                if not isinstance(e, DirectivesExtension | DirectivesExtensionSync)]

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Only what we did not expect is logged, and only by type and traceback: never the messages,
        # which may quote what the client sent.
        log_unexpected(errors, execution_context.context if execution_context else None)


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias limits as validation rules (also checked when a trusted document is compiled)."""
    return [*QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules]


# Parsed and validated documents kept per text: a storefront sends the same few operations over and over.
DOCUMENT_CACHE_SIZE = 256


def security_extensions(settings: Settings, *, enforce_privacy: bool = True) -> list[Callable[[], SchemaExtension]]:
    """Fresh instances per request (extensions keep per-request state). ErrorCodes comes first, so
    it formats errors after the others have done with them.

    The depth and alias rules are built here, once: the validation cache is keyed by the rule classes,
    and a rule class made anew per request would never hit it."""
    limits = limit_rules(settings)
    extensions: list[Callable[[], SchemaExtension]] = [
        ErrorCodes,
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(AddValidationRules, limits),
        RejectCardNumbers,
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
    ]
    if enforce_privacy:
        extensions.append(PrivacyExtension)
    if settings.production:
        extensions.append(DisableIntrospection)
    return extensions


def build_schema(query: type, mutation: type, settings: Settings, *, enforce_privacy: bool = True,
                 **kwargs: Any) -> ShopSchema:
    schema = ShopSchema(
        query=query,
        mutation=mutation,
        extensions=security_extensions(settings, enforce_privacy=enforce_privacy),
        config=StrawberryConfig(
            disable_field_suggestions=settings.production,
            relay_max_results=settings.max_page_size,
        ),
        **kwargs,
    )
    check_schema(schema)
    return schema
