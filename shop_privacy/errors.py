"""Errors every layer may raise; the GraphQL layer turns them into `extensions.code`.

A leaf module: services raise these without knowing about GraphQL, and the schema's error
extension maps `code` (stable, documented) and the optional `details` onto the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ShopError(Exception):
    """An error whose message is safe to show to the client."""

    code: ClassVar[str] = "BAD_USER_INPUT"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details


class BadUserInput(ShopError):
    code = "BAD_USER_INPUT"


class Unauthenticated(ShopError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "You need to log in first.", **details: Any) -> None:
        super().__init__(message, **details)


class InvalidCredentials(ShopError):
    code = "INVALID_CREDENTIALS"


class Forbidden(ShopError):
    code = "FORBIDDEN"


class NotFound(ShopError):
    code = "NOT_FOUND"


class Conflict(ShopError):
    code = "CONFLICT"


class ReauthenticationRequired(ShopError):
    code = "REAUTHENTICATION_REQUIRED"


class RateLimited(ShopError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)


class ServiceUnavailable(ShopError):
    code = "SERVICE_UNAVAILABLE"
