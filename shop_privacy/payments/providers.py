"""Payment providers behind one interface. The shop registers real adapters; development uses
the sandbox, which answers like a provider without any network.

A provider gets only what starting a payment needs here (order number, amount, currency);
customer details go to providers through the disclosure registry, never from here.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class PaymentMethod(enum.StrEnum):
    CARD_STRIPE = "CARD_STRIPE"
    CARD_PAYPAL = "CARD_PAYPAL"
    INVOICE = "INVOICE"
    SWISH = "SWISH"


# The provider behind each method whose callbacks report on its payments (an invoice has none).
PROVIDER_OF_METHOD: Mapping[PaymentMethod, str] = {
    PaymentMethod.CARD_STRIPE: "stripe",
    PaymentMethod.CARD_PAYPAL: "paypal",
    PaymentMethod.SWISH: "swish",
}


class PaymentOutcome(enum.StrEnum):
    AUTHORISED = "AUTHORISED"  # money secured: the order is paid
    PENDING = "PENDING"  # the customer still has to act (invoice, redirect)


@dataclass(frozen=True)
class PaymentRequest:
    method: PaymentMethod
    order_number: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class PaymentStarted:
    reference: str  # the provider's reference: all the shop keeps about the payment
    outcome: PaymentOutcome


class PaymentProvider(Protocol):
    async def start_payment(self, request: PaymentRequest) -> PaymentStarted: ...


class PaymentFailed(Exception):
    """The provider refused or could not be reached; nothing was charged."""


class SandboxProvider:
    """Development stand-in for Stripe, PayPal, Swish and the invoice service."""

    _PREFIX = {
        PaymentMethod.CARD_STRIPE: "pi_sandbox_",
        PaymentMethod.CARD_PAYPAL: "PAYID-SANDBOX-",
        PaymentMethod.SWISH: "SWISH-SANDBOX-",
        PaymentMethod.INVOICE: "INV-SANDBOX-",
    }

    async def start_payment(self, request: PaymentRequest) -> PaymentStarted:
        outcome = PaymentOutcome.PENDING if request.method is PaymentMethod.INVOICE else PaymentOutcome.AUTHORISED
        return PaymentStarted(self._PREFIX[request.method] + secrets.token_hex(8).upper(), outcome)


def sandbox_providers() -> Mapping[PaymentMethod, PaymentProvider]:
    sandbox = SandboxProvider()
    return {method: sandbox for method in PaymentMethod}
