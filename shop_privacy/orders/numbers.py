"""Order numbers people can read aloud: date plus random characters, no sequence to guess."""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_order_number(placed_at: datetime) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"SP-{placed_at:%Y%m%d}-{suffix}"
