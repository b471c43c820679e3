"""Random tokens stored only as hashes, signed tokens (itsdangerous), and keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from .errors import BadUserInput


def new_token() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of a token. A fast hash suffices: the token is random."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class InvalidToken(BadUserInput):
    def __init__(self, *, expired: bool = False) -> None:
        reason = "token_expired" if expired else "token_invalid"
        message = "This link has expired." if expired else "This link is not valid."
        super().__init__(message, reason=reason)


class Signer:
    """Signs and checks tokens; `purpose` is the salt, so a token for one use is useless for another."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def sign(self, purpose: str, payload: Any) -> str:
        return URLSafeTimedSerializer(self._secret, salt=purpose).dumps(payload)

    def unsign(self, purpose: str, token: str, *, max_age_seconds: int) -> Any:
        try:
            return URLSafeTimedSerializer(self._secret, salt=purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise InvalidToken(expired=True) from None
        except (BadSignature, UnicodeError, ValueError, TypeError):
            raise InvalidToken() from None

    def sign_untimed(self, purpose: str, payload: Any) -> str:
        return URLSafeSerializer(self._secret, salt=purpose).dumps(payload)

    def unsign_untimed(self, purpose: str, token: str) -> Any:
        try:
            return URLSafeSerializer(self._secret, salt=purpose).loads(token)
        except (BadSignature, UnicodeError, ValueError, TypeError):
            raise InvalidToken() from None

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256: lets us count by e-mail or address without storing either."""
        key = hashlib.sha256(f"{purpose}:{self._secret}".encode()).digest()
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
