"""What the storefront may load for this visitor (P16, P27): the cookie banner's questions, each with its
tags and recipients, and the visitor's answer. Derived from `privacy.cookies`, never listed here."""

from __future__ import annotations

import strawberry

from ...privacy.cookies import CookieTag as CookieTagDeclaration
from ...privacy.purposes import PURPOSES
from ...privacy.recipients import RECIPIENTS
from ...storage.tables import Consent as ConsentRow
from ..accounts.types import Language
from ..core.guard import RowPrivacy
from ..core.personal import personal
from .types import ConsentPurpose


@strawberry.type(description="A script or pixel that sets cookies or sends device data to a recipient.")
class CookieTag:
    key: str = strawberry.field(description="Stable key the storefront maps to its script, e.g. facebook_pixel.")
    recipient: str = strawberry.field(description="The recipient's key, e.g. facebook.")
    recipient_name: str
    recipient_country: str = strawberry.field(description="ISO 3166 country of the recipient.")
    cookies: list[str] = strawberry.field(description="The cookies it sets.")
    description: str

    @classmethod
    def from_declaration(cls, tag: CookieTagDeclaration, language: Language) -> CookieTag:
        recipient = RECIPIENTS[tag.recipient]
        return cls(key=tag.key, recipient=tag.recipient, recipient_name=recipient.name,
                   recipient_country=recipient.country, cookies=list(tag.cookies),
                   description=tag.description_sv if language is Language.SV else tag.description_en)


@strawberry.type(description="One question of the cookie banner: a consent purpose and the tags waiting for it.")
class CookiePurpose:
    purpose: ConsentPurpose  # type: ignore[valid-type]
    description: str
    granted: bool | None = personal(ConsentRow.granted)
    tags: list[CookieTag]
    privacy: strawberry.Private[RowPrivacy | None] = None


@strawberry.type(description="The cookie banner's questions and this visitor's (or customer's) answers.")
class CookieConsent:
    answered: bool | None = personal(ConsentRow.granted,
                                     description="False until every question has an answer: show the banner.")
    purposes: list[CookiePurpose]
    may_load: list[str] | None = personal(ConsentRow.granted, description="Keys of the tags that may be loaded now.")
    privacy: strawberry.Private[RowPrivacy | None] = None


def purpose_description(purpose: str, language: Language) -> str:
    declared = PURPOSES[purpose]
    return declared.description_sv if language is Language.SV else declared.description_en
