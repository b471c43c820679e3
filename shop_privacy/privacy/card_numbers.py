"""Detecting payment card numbers (PANs) in free text, so none is ever stored (P06).

A number is found however it was written: after NFKC (full-width, mathematical, circled and other
compatibility digits fold to ASCII), in any script's digits (Arabic-Indic, Devanagari, …: whatever
`unicodedata.digit` knows), with invisible characters ignored (zero-width spaces and joiners, bidi
controls, soft hyphens, combining marks), and with up to five separators between digit groups:
spaces of any width, dashes of any kind, dots, slashes, underscores, commas, apostrophes, line breaks.
"""

from __future__ import annotations

import re
import unicodedata

MIN_PAN_DIGITS, MAX_PAN_DIGITS = 12, 19
# "4111 - 1111", "4111.  1111": more separators than this in a row end the number.
_MAX_SEPARATORS = 5
_SEPARATOR = " "
# Separators outside the categories below (spaces Z*, dashes Pd, connectors Pc such as "_").
_SEPARATOR_CHARACTERS = frozenset(".,/\\'’·•‧∙⋅・。、،٫٬⁄∕−")
_SEPARATOR_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Pd", "Pc"})
# Format characters (zero-width, bidi, soft hyphen), combining and enclosing marks (a keycap "4️⃣"),
# and controls that are not whitespace: none of them shows, so none may split a number unseen.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cc"})
_RUN = re.compile(rf"[0-9]+(?:{_SEPARATOR}{{1,{_MAX_SEPARATORS}}}[0-9]+)*")
_CACHE_LIMIT = 8192


class _Fold(dict[int, str | None]):
    """A `str.translate` table filled as characters are met: a digit becomes its ASCII digit, a
    separator a space, an invisible character nothing; anything else stays and ends a number."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        value = unicodedata.digit(char, None)
        folded: str | None
        if value is not None:
            folded = str(value)
        elif char.isspace() or char in _SEPARATOR_CHARACTERS or category in _SEPARATOR_CATEGORIES:
            folded = _SEPARATOR
        elif category in _INVISIBLE_CATEGORIES:
            folded = None
        else:
            folded = char
        if len(self) < _CACHE_LIMIT:  # bounded: a client may send every code point there is
            self[code] = folded
        return folded


_FOLD = _Fold()
for _code in range(128):  # always cached, whatever else was met
    _FOLD[_code]  # noqa: B018 - filling the table


def fold_digits(text: str) -> str:
    """`text` with every digit in ASCII, every separator a space and invisible characters removed."""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_FOLD)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _candidates(groups: list[str]) -> list[str]:
    """Every run of whole consecutive groups with 12–19 digits, and every 12–19 digit window
    of a group longer than 19 (a number glued to other digits)."""
    found: list[str] = []
    for start in range(len(groups)):
        joined = ""
        for group in groups[start:]:
            joined += group
            if len(joined) > MAX_PAN_DIGITS:
                break
            if len(joined) >= MIN_PAN_DIGITS:
                found.append(joined)
    for group in groups:
        if len(group) > MAX_PAN_DIGITS:
            found.extend(
                group[i : i + size]
                for size in range(MIN_PAN_DIGITS, MAX_PAN_DIGITS + 1)
                for i in range(len(group) - size + 1)
            )
    return found


def contains_card_number(text: str) -> bool:
    """True if `text` holds a Luhn-valid run of 12–19 digits, however written (see the module)."""
    for match in _RUN.finditer(fold_digits(text)):
        groups = match.group().split()
        if sum(map(len, groups)) >= MIN_PAN_DIGITS and any(map(luhn_valid, _candidates(groups))):
            return True
    return False


_OPAQUE_DIGIT_RUN = re.compile(r"[0-9][0-9_\-]*")


def has_room_for_card_number(token: str) -> bool:
    """True if an opaque token of letters, digits, "-" and "_" has 12 or more digits in a row, dashes
    and underscores between them counting as part of the row ("4111-1111-1111-1111"). A token without
    such a row cannot hold a card number, Luhn-valid or not, so it can be stored and logged as given."""
    return any(sum(char.isdigit() for char in match.group()) >= MIN_PAN_DIGITS
               for match in _OPAQUE_DIGIT_RUN.finditer(token))
