"""A shop configured as a host's `myshop/config.py` would be, for the tests of `--app`: the worked
support-tickets plugin, the shop's own payment provider, and its own adapter delivering the outbox.

The adapter appends each message as a JSON line to the file $SUPPORT_SHOP_DELIVERIES names, so a test
can see what `shop-privacy outbox run` delivered through it."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from examples.support_tickets import SUPPORT_TICKETS
from shop_privacy.disclosures.outbox import Outgoing
from shop_privacy.payments.providers import PaymentMethod, PaymentOutcome, PaymentRequest, PaymentStarted
from shop_privacy.shop import Shop

DELIVERIES_VARIABLE = "SUPPORT_SHOP_DELIVERIES"
REFERENCE_PREFIX = "TESTPAY-"


class ShopsOwnCardProvider:
    """Stands in for the shop's contract with a card acquirer: authorises at once, with its own references."""

    async def start_payment(self, request: PaymentRequest) -> PaymentStarted:
        return PaymentStarted(REFERENCE_PREFIX + secrets.token_hex(6).upper(), PaymentOutcome.AUTHORISED)


class JsonLinesAdapter:
    async def deliver(self, message: Outgoing) -> None:
        line = json.dumps({"id": str(message.id), "recipient": message.recipient, "kind": message.kind,
                           "payload": message.payload}, ensure_ascii=False)
        with Path(os.environ[DELIVERIES_VARIABLE]).open("a", encoding="utf-8") as deliveries:
            deliveries.write(line + "\n")


_ADAPTER = JsonLinesAdapter()

shop = Shop(
    plugins=[SUPPORT_TICKETS],
    payment_providers={PaymentMethod.CARD_STRIPE: ShopsOwnCardProvider()},
    recipient_adapters={"stripe": _ADAPTER, "helpdesk": _ADAPTER},
)


def make_shop() -> Shop:
    """The same shop from a factory: `--app tests.support_shop:make_shop`."""
    return shop


not_a_shop = 42
