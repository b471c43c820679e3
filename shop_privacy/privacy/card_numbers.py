"""Detecting payment card numbers (PANs) in free text, so none is ever stored (P06)."""

from __future__ import annotations

import re

# Digits in groups separated by single spaces or dashes, as people type card numbers.
_DIGIT_RUN = re.compile(r"\d+(?:[ \-]\d+)*")
_SEPARATOR = re.compile(r"[ \-]")
_MIN_PAN, _MAX_PAN = 12, 19


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
            if len(joined) > _MAX_PAN:
                break
            if len(joined) >= _MIN_PAN:
                found.append(joined)
    for group in groups:
        if len(group) > _MAX_PAN:
            found.extend(
                group[i : i + size]
                for size in range(_MIN_PAN, _MAX_PAN + 1)
                for i in range(len(group) - size + 1)
            )
    return found


def contains_card_number(text: str) -> bool:
    """True if `text` holds a Luhn-valid run of 12–19 digits (spaces or dashes between groups)."""
    for match in _DIGIT_RUN.finditer(text):
        groups = _SEPARATOR.split(match.group())
        if sum(map(len, groups)) >= _MIN_PAN and any(map(luhn_valid, _candidates(groups))):
            return True
    return False
