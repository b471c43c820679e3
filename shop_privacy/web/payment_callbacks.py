"""POST endpoints where payment providers report payments: Stripe's webhook, PayPal's webhook (through the
shop's verifier) and Swish's callback. Each checks where the report comes from, then hands it to the order
lifecycle, which applies each provider event once and checks the amount against the order.

Answers: 200 `{"outcome": "applied" | "duplicate" | "ignored"}`, or a JSON error with a stable code:
401 `invalid_signature`, 400 `invalid_payload`, 404 `unknown_order` / `provider_not_configured`,
422 `amount_mismatch`, 409 `illegal_transition`. Logged with ids only (provider, event, order, request).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ShopError
from ..payments.callbacks import (
    PaymentEvent,
    parse_json,
    paypal_event,
    stripe_event,
    swish_event,
    verify_signature,
    verify_token,
)
from ..services import Services
from .graphql_view import json_error, request_id_for

logger = logging.getLogger("shop_privacy.payments")

STRIPE_SIGNATURE = "stripe-signature"
VERIFIED_SIGNATURE = "shop-webhook-signature"  # PayPal's events, signed by the shop's verifier
_STATUS = {"invalid_signature": 401, "invalid_payload": 400, "unknown_order": 404, "amount_mismatch": 422,
           "illegal_transition": 409}
IGNORED = "ignored"  # an event type the shop does not act on: answered 200 so the provider stops sending it

# Reads a verified request into an event (None: an event the shop does not act on).
Reader = Callable[[Request, bytes, str], PaymentEvent | None]


def payment_callback_routes(services: Services) -> list[Route]:
    settings = services.settings

    def signed(header: str, parse: Callable[[Mapping[str, Any]], PaymentEvent | None]) -> Reader:
        def read(request: Request, payload: bytes, secret: str) -> PaymentEvent | None:
            verify_signature(payload, request.headers.get(header), secret, now=time.time(),
                             tolerance_seconds=settings.payment_webhook_tolerance_seconds)
            return parse(parse_json(payload))
        return read

    def by_token(request: Request, payload: bytes, secret: str) -> PaymentEvent | None:
        verify_token(request.query_params.get("token"), secret)
        return swish_event(parse_json(payload))

    def endpoint(provider: str, secret: SecretStr | None, read: Reader) -> Callable[[Request], Awaitable[Response]]:
        async def receive(request: Request) -> Response:
            request_id = request_id_for(request)
            if secret is None:
                return json_error(404, "This payment provider is not configured.", "NOT_FOUND", request_id,
                                  reason="provider_not_configured")
            event: PaymentEvent | None = None
            try:
                event = read(request, await request.body(), secret.get_secret_value())
                if event is None:
                    return _answer(IGNORED, request_id)
                changed = await services.order_transitions.payment_event(event)
            except ShopError as error:
                reason = str(error.details.get("reason", ""))
                logger.warning("payment callback refused provider=%s event_id=%s reason=%s request_id=%s", provider,
                               event.event_id if event else None, reason or error.code, request_id)
                return json_error(_STATUS.get(reason, 400), error.message, error.code, request_id, **error.details)
            logger.info("payment callback provider=%s event_id=%s order_id=%s outcome=%s request_id=%s", provider,
                        event.event_id, changed.order.id, changed.outcome.value, request_id)
            return _answer(changed.outcome.value, request_id)
        return receive

    return [
        Route("/payments/stripe/webhook", endpoint("stripe", settings.stripe_webhook_secret,
                                                    signed(STRIPE_SIGNATURE, stripe_event)), methods=["POST"]),
        Route("/payments/paypal/webhook", endpoint("paypal", settings.paypal_webhook_secret,
                                                    signed(VERIFIED_SIGNATURE, paypal_event)), methods=["POST"]),
        Route("/payments/swish/callback", endpoint("swish", settings.swish_callback_token, by_token),
              methods=["POST"]),
    ]


def _answer(outcome: str, request_id: str) -> Response:
    return Response(json.dumps({"outcome": outcome}), media_type="application/json",
                    headers={"Cache-Control": "no-store", "X-Request-ID": request_id})
