"""The customer behind a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Viewer:
    """The logged-in customer behind a request."""

    customer_id: uuid.UUID
    session_id: uuid.UUID
    # The session's last-seen time is due to be written, after the read that found it.
    touch_due: bool = field(default=False, compare=False)
