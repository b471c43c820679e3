"""Keyset pagination: opaque cursors over a stable sort key, page size capped."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.fernet import Fernet, InvalidToken

from .errors import BadUserInput

T = TypeVar("T")
S = TypeVar("S")


class Made(Sequence[str], Generic[S]):
    """`make(each)` for each of `sources`, each made when first asked for: a page's cursors, which most
    requests show few of or none (making one encodes, for staff also encrypts, the row's sort key)."""

    def __init__(self, sources: Sequence[S], make: Callable[[S], str]) -> None:
        self._sources = sources
        self._make = make
        self._made: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._sources)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        made = self._made.get(index)
        if made is None:
            made = self._made[index] = self._make(self._sources[index])
        return made


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, *converters: Callable[[Any], Any]) -> list[Any]:
    """The sort key inside `cursor`, each part passed through its converter."""
    invalid = BadUserInput("The cursor is not valid.", reason="invalid_cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(decoded, list) or len(decoded) != len(converters) + 1 or decoded[0] != kind:
            raise invalid
        return [convert(part) for convert, part in zip(converters, decoded[1:], strict=True)]
    except (ValueError, TypeError, AttributeError, UnicodeError):
        raise invalid from None


def page_of(rows: Sequence[T], first: int, after: str | None, cursor: Callable[[T], str]) -> Page[T]:
    """A page from up to `first + 1` rows read in order: the extra row only tells there is a next page."""
    items = rows[:first]
    return Page(items, Made(items, cursor), len(rows) > first, after is not None)


def check_page_size(first: int, maximum: int) -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"`first` must be between 1 and {maximum}.", reason="page_size")
    return first


class CursorSealer:
    """Cursors that show nothing: a keyset cursor carries its row's sort key (a customer's creation
    time, an order's time), itself personal data, which a staff member may not be allowed to read.

    Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived from the secret key
    for this use only: a sealed cursor is opaque, differs each time it is issued, and cannot be forged
    or edited.
    """

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(f"cursor-sealing:{secret}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, cursor: str) -> str:
        return self._fernet.encrypt(cursor.encode()).decode().rstrip("=")

    def unseal(self, sealed: str) -> str:
        """The cursor inside, or BAD_USER_INPUT for anything this shop did not seal."""
        invalid = BadUserInput("The cursor is not valid.", reason="invalid_cursor")
        if len(sealed) > 1024:
            raise invalid
        try:
            return self._fernet.decrypt((sealed + "=" * (-len(sealed) % 4)).encode()).decode()
        except (InvalidToken, ValueError, UnicodeError):
            raise invalid from None

    def sealed(self, page: Page[T]) -> Page[T]:
        return Page(page.items, Made(page.cursors, self.seal), page.has_next_page, page.has_previous_page)

    def unsealed(self, after: str | None) -> str | None:
        return None if after is None else self.unseal(after)
