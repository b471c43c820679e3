"""What the storefront may load in a visitor's browser (P16, P27): each tag that sets cookies or sends
device data, the recipient it sends to and the consent purpose it waits for. The cookie banner asks one
question per purpose here, and the storefront loads a tag only while its purpose is granted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .purposes import PURPOSES
from .recipients import RECIPIENTS


@dataclass(frozen=True)
class CookieTag:
    key: str
    recipient: str  # a key of RECIPIENTS
    purpose: str  # a consent purpose of PURPOSES
    cookies: tuple[str, ...]  # the cookies the tag sets, as the shop's cookie notice lists them
    description_en: str
    description_sv: str


class CookieDeclarationError(ValueError):
    """A tag names a purpose that asks for no consent, or a recipient not declared for its purpose."""


def _tag(key: str, recipient: str, purpose: str, cookies: tuple[str, ...], en: str, sv: str) -> tuple[str, CookieTag]:
    return key, CookieTag(key, recipient, purpose, cookies, en, sv)


COOKIE_TAGS: Mapping[str, CookieTag] = dict([
    _tag("google_analytics", "google_analytics", "analytics", ("_ga", "_ga_<container-id>"),
         "Google Analytics: which pages are visited, to improve the shop",
         "Google Analytics: vilka sidor som besöks, för att förbättra butiken"),
    _tag("google_ads", "google_ads", "marketing_cookies", ("_gcl_au",),
         "Google Ads conversion tag: measures and targets the shop's ads",
         "Google Ads konverteringstagg: mäter och riktar butikens annonser"),
    _tag("facebook_pixel", "facebook", "marketing_cookies", ("_fbp",),
         "Facebook (Meta) pixel: measures and targets the shop's ads",
         "Facebooks (Metas) pixel: mäter och riktar butikens annonser"),
])

# The banner's questions, in the order it asks them: derived from the tags, never listed twice.
COOKIE_PURPOSES: tuple[str, ...] = tuple(dict.fromkeys(tag.purpose for tag in COOKIE_TAGS.values()))


def tags_for(purpose: str) -> tuple[CookieTag, ...]:
    return tuple(tag for tag in COOKIE_TAGS.values() if tag.purpose == purpose)


def check_cookie_tags(tags: Mapping[str, CookieTag] = COOKIE_TAGS) -> None:
    """Every tag waits for a consent purpose and sends only to a recipient declared for that purpose."""
    for tag in tags.values():
        purpose = PURPOSES.get(tag.purpose)
        if purpose is None or not purpose.needs_consent:
            raise CookieDeclarationError(f"cookie tag {tag.key!r}: purpose {tag.purpose!r} asks for no consent")
        recipient = RECIPIENTS.get(tag.recipient)
        if recipient is None or tag.purpose not in recipient.purposes:
            raise CookieDeclarationError(
                f"cookie tag {tag.key!r}: recipient {tag.recipient!r} is not declared for {tag.purpose!r}")
