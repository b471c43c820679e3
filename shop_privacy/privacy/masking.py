"""Masked forms of values, for someone who may know a value exists but not read it."""

from __future__ import annotations

from .declarations import Mask


def _hide(part: str) -> str:
    return f"{part[0]}***" if part else "***"


def mask_email(value: str) -> str:
    """anna@exempel.se → a***@e***.se"""
    local, _, domain = value.partition("@")
    name, dot, tld = domain.rpartition(".")
    return f"{_hide(local)}@{_hide(name)}{dot}{tld}" if dot else f"{_hide(local)}@{_hide(domain)}"


def mask_phone(value: str) -> str:
    """+46701234567 → +4670*****67: the country and operator prefix, the last two digits."""
    digits = [i for i, char in enumerate(value) if char.isdigit()]
    if len(digits) <= 6:
        return "*" * len(value)
    hidden = set(digits[4:-2])
    return "".join("*" if i in hidden else char for i, char in enumerate(value))


def masked(kind: Mask, value: object) -> object | None:
    """The masked form of a value (None: shown as null, e.g. a street when the address is reduced
    to its city). Only called for declarations that have a mask."""
    if value is None:
        return None
    if kind is Mask.EMAIL:
        return mask_email(str(value))
    if kind is Mask.PHONE:
        return mask_phone(str(value))
    if kind is Mask.KEEP:
        return value
    return None
