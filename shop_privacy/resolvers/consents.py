"""Consent resolvers: give and withdraw consent as easily, logged in or (for cookies) as a visitor."""

from __future__ import annotations

from collections import defaultdict

import strawberry

from ..consents.ledger import ConsentOwner
from ..privacy.cookies import COOKIE_PURPOSES, tags_for
from ..schema.accounts.types import Language
from ..schema.consents.cookies import CookieConsent, CookiePurpose, CookieTag, purpose_description
from ..schema.consents.types import ConsentPurpose, ConsentRecord, ConsentSource, ConsentState
from ..schema.core.context import StorefrontContext

Info = strawberry.Info[StorefrontContext, None]


async def _owner(context: StorefrontContext) -> ConsentOwner:
    viewer = await context.viewer()
    return ConsentOwner(viewer.customer_id if viewer else None, None if viewer else context.visitor_token)


async def _states(context: StorefrontContext, owner: ConsentOwner) -> list[ConsentState]:
    async with context.read() as session:
        rows = await context.services.consent_ledger.history(session, owner)
    guard = await context.guard()
    by_purpose = defaultdict(list)
    for row in rows:
        by_purpose[row.purpose].append(row)
    return [
        ConsentState(**guard.shape_held(ConsentState, owner.customer_id, {  # type: ignore[arg-type]
            "purpose": purpose,
            "granted": bool(by_purpose[purpose.value] and by_purpose[purpose.value][-1].granted),
            "history": [ConsentRecord.from_row(row, guard) for row in by_purpose[purpose.value]],
        }))
        for purpose in ConsentPurpose
    ]


async def my_consents(info: Info) -> list[ConsentState]:
    """Every consent purpose, with its current answer (no answer: not given) and its history."""
    context = info.context
    return await _states(context, await _owner(context))


async def set_consent(info: Info, purpose: ConsentPurpose, granted: bool,
                      source: ConsentSource = ConsentSource.ACCOUNT_PAGE) -> ConsentState | None:
    """Give or withdraw. A visitor without an account may answer the cookie banner (`cookieConsent`'s purposes)."""
    context = info.context
    owner = await _owner(context)
    change = await context.services.consent_ledger.set(owner, purpose.value, granted, source.value)
    if change.issued_visitor_token:
        context.set_visitor_cookie(change.issued_visitor_token)
        owner = ConsentOwner(None, change.issued_visitor_token)
    return next(state for state in await _states(context, owner) if state.purpose == purpose)


async def cookie_consent(info: Info, language: Language = Language.EN) -> CookieConsent:
    """The banner's questions, this visitor's answers, and what may be loaded: no login needed."""
    context = info.context
    owner = await _owner(context)
    states = {state.purpose.value: state for state in await _states(context, owner)}
    guard = await context.guard()
    purposes = []
    for purpose in COOKIE_PURPOSES:
        state = states[purpose]
        purposes.append(CookiePurpose(**guard.shape_held(CookiePurpose, owner.customer_id, {  # type: ignore[arg-type]
            "purpose": ConsentPurpose(purpose), "description": purpose_description(purpose, language),
            "granted": bool(state.granted),
            "tags": [CookieTag.from_declaration(tag, language) for tag in tags_for(purpose)],
        })))
    return CookieConsent(**guard.shape_held(CookieConsent, owner.customer_id, {  # type: ignore[arg-type]
        "answered": all(states[purpose].history for purpose in COOKIE_PURPOSES),
        "purposes": purposes,
        "may_load": [tag.key for purpose in purposes if purpose.granted for tag in purpose.tags],
    }))
