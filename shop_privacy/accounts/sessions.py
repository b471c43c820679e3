"""The customer behind a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """The logged-in customer behind a request."""

    customer_id: uuid.UUID
    session_id: uuid.UUID
