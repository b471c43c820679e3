"""What payment providers send when a payment goes through or fails: checking that it really comes from
them, and reading it into one `PaymentEvent` shape. No network and no database here.

- Stripe signs each webhook: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
  the endpoint's signing secret (several `v1` while a secret is rolled); old timestamps are refused.
- PayPal's own signatures are checked by calling PayPal's API, so the shop accepts PayPal's events from its
  own verifier in front (a relay or gateway that checked them with PayPal) signed the same way as Stripe's,
  in `Shop-Webhook-Signature`, with a secret the two share.
- Swish authenticates its callbacks with the bank's TLS client certificate, which this package does not
  see; the callback URL the shop gives Swish carries a shared token (`?token=…`) that must match.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from hashlib import sha256
from typing import Any

from ..errors import BadUserInput, Unauthenticated

# ISO 4217 currencies without minor units, among those PayPal and Stripe take; every other has two.
_ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "HUF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "TWD",
                           "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})

STRIPE_SUCCEEDED = "payment_intent.succeeded"
STRIPE_FAILED = "payment_intent.payment_failed"
PAYPAL_SUCCEEDED = "PAYMENT.CAPTURE.COMPLETED"
PAYPAL_FAILED = frozenset({"PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"})
SWISH_SUCCEEDED = "PAID"
SWISH_FAILED = frozenset({"DECLINED", "ERROR", "CANCELLED"})


@dataclass(frozen=True)
class PaymentEvent:
    """A payment provider's report, its origin verified: a payment went through or failed."""

    provider: str
    event_id: str
    reference: str  # the provider's payment reference, as the order keeps it
    succeeded: bool
    amount_minor: int
    currency: str


class InvalidSignature(Unauthenticated):
    def __init__(self, message: str = "The callback's signature is missing or wrong.") -> None:
        super().__init__(message, reason="invalid_signature")


def invalid_payload(message: str = "The callback's body is not what this provider sends.") -> BadUserInput:
    return BadUserInput(message, reason="invalid_payload")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The signature header value for `payload` (what the provider, or the shop's verifier, sends)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, payload)}"


def verify_signature(payload: bytes, header: str | None, secret: str, *, now: float, tolerance_seconds: int) -> None:
    """Raise InvalidSignature unless `header` signs `payload` with `secret` within the tolerance of `now`."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature()
    expected = _mac(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise InvalidSignature()
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature("The callback's signature is too old (or from the future): it may be a replay.")


def verify_token(given: str | None, secret: str) -> None:
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise InvalidSignature("The callback's token is missing or wrong.")


def _mac(secret: str, timestamp: int, payload: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, sha256).hexdigest()


def parse_json(payload: bytes) -> Mapping[str, Any]:
    try:
        body = json.loads(payload, parse_float=Decimal)  # amounts stay exact
    except (ValueError, UnicodeDecodeError):
        raise invalid_payload("The callback's body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid_payload()
    return body


def stripe_event(body: Mapping[str, Any]) -> PaymentEvent | None:
    """A PaymentIntent that succeeded or failed; None for the event types the shop does not act on."""
    kind = body.get("type")
    if kind not in {STRIPE_SUCCEEDED, STRIPE_FAILED}:
        return None
    intent = _path(body, "data", "object")
    amount = intent.get("amount_received") if kind == STRIPE_SUCCEEDED else intent.get("amount")
    if amount is None:
        amount = intent.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise invalid_payload("The event's amount is not a whole number of minor units.")
    return PaymentEvent("stripe", _text(body, "id"), _text(intent, "id"), kind == STRIPE_SUCCEEDED, amount,
                        _currency(intent.get("currency")))


def paypal_event(body: Mapping[str, Any]) -> PaymentEvent | None:
    """A capture that completed, or was denied or declined; None for other event types. The order is found
    by the PayPal order id the capture belongs to: the reference the shop kept when it created the order."""
    kind = body.get("event_type")
    if kind != PAYPAL_SUCCEEDED and kind not in PAYPAL_FAILED:
        return None
    resource = _path(body, "resource")
    amount = _path(resource, "amount")
    currency = _currency(amount.get("currency_code"))
    reference = _text(_path(resource, "supplementary_data", "related_ids"), "order_id")
    return PaymentEvent("paypal", _text(body, "id"), reference, kind == PAYPAL_SUCCEEDED,
                        minor_units(amount.get("value"), currency), currency)


def swish_event(body: Mapping[str, Any]) -> PaymentEvent | None:
    """The final state of a payment request: PAID, or DECLINED / ERROR / CANCELLED. Swish sends one callback
    per payment request, so its id is the event's id too."""
    status = body.get("status")
    if status != SWISH_SUCCEEDED and status not in SWISH_FAILED:
        return None
    currency = _currency(body.get("currency"))
    payment_id = _text(body, "id")
    return PaymentEvent("swish", payment_id, payment_id, status == SWISH_SUCCEEDED,
                        minor_units(body.get("amount"), currency), currency)


def minor_units(value: Any, currency: str) -> int:
    """"123.45" SEK -> 12345; refuses what is not an exact amount in that currency."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise invalid_payload("The callback's amount is missing.")
    try:
        amount = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise invalid_payload("The callback's amount is not a number.") from None
    scaled = amount.scaleb(0 if currency in _ZERO_DECIMAL else 2)
    if not scaled.is_finite() or scaled != scaled.to_integral_value() or scaled < 0:
        raise invalid_payload("The callback's amount is not an amount in its currency.")
    return int(scaled)


def _path(body: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    current: Any = body
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    if not isinstance(current, dict):
        raise invalid_payload(f"The callback has no {'.'.join(keys)}.")
    return current


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise invalid_payload(f"The callback's {key} is missing.")
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise invalid_payload("The callback's currency is not an ISO 4217 code.")
    return value.upper()
