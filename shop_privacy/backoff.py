"""Retry timing shared by everything that delivers at least once (the recipient outbox, account mail):
exponential backoff with a ceiling, and a number of attempts after which a delivery is given up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    base: timedelta = timedelta(seconds=30)
    ceiling: timedelta = timedelta(hours=6)
    max_attempts: int = 10

    def retry_after(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number `attempt` (1, 2, …): base, 2×base, 4×base, … ≤ ceiling."""
        return min(self.base * 2 ** min(max(attempt, 1) - 1, 20), self.ceiling)

    def gives_up(self, attempt: int) -> bool:
        """Whether failed attempt number `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
