"""Opaque ids: base64 of "Type:uuid". Random UUIDs underneath, so there is nothing to enumerate."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry


def encode_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{value}".encode()).decode().rstrip("="))


def decode_id(type_name: str, value: str) -> uuid.UUID | None:
    """The UUID inside an id of the given type; None for anything else (treat as not found)."""
    if not value or len(value) > 128:
        return None
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        kind, _, raw = decoded.partition(":")
        return uuid.UUID(raw) if kind == type_name else None
    except (binascii.Error, UnicodeError, ValueError):
        return None
