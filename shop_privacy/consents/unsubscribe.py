"""Unsubscribe links (P10): signed per customer and purpose, expiring, working without a login."""

from __future__ import annotations

import uuid

from ..tokens import InvalidToken, Signer

_PURPOSE = "unsubscribe"


class UnsubscribeLinks:
    def __init__(self, signer: Signer, api_url: str, max_age_seconds: int) -> None:
        self._signer = signer
        self._api_url = api_url.rstrip("/")
        self._max_age = max_age_seconds

    def url(self, customer_id: uuid.UUID, purpose: str) -> str:
        token = self._signer.sign(_PURPOSE, {"c": str(customer_id), "p": purpose})
        return f"{self._api_url}/unsubscribe/{token}"

    def read(self, token: str) -> tuple[uuid.UUID, str]:
        """(customer, purpose) of a link; InvalidToken for a forged or expired one."""
        payload = self._signer.unsign(_PURPOSE, token, max_age_seconds=self._max_age)
        if not isinstance(payload, dict) or not isinstance(payload.get("p"), str):
            raise InvalidToken()
        try:
            return uuid.UUID(str(payload.get("c"))), payload["p"]
        except ValueError:
            raise InvalidToken() from None
