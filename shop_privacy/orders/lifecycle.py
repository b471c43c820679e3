"""An order's states and the transitions between them: which are allowed, from where, for which payment
methods. Pure rules; `orders.transitions` applies them to stored orders under lock.

```
from              transition                         to
PENDING_PAYMENT   pay                                PAID
PENDING_PAYMENT   fail (a payment provider)          PAYMENT_FAILED
PENDING_PAYMENT   deliver (invoice orders only)      DELIVERED_UNPAID
PENDING_PAYMENT   cancel                             CANCELLED
PAYMENT_FAILED    pay (a retried payment)            PAID
PAYMENT_FAILED    cancel                             CANCELLED
PAID              deliver                            FULFILLED
PAID              refund                             REFUNDED
DELIVERED_UNPAID  pay                                FULFILLED
FULFILLED         refund                             REFUNDED
CANCELLED, REFUNDED: final
```
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ..errors import Conflict
from ..payments.providers import PaymentMethod


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"  # placed; the money is not in yet
    PAYMENT_FAILED = "PAYMENT_FAILED"  # the provider reported the payment failed; it may still succeed later
    PAID = "PAID"  # paid, not delivered yet
    DELIVERED_UNPAID = "DELIVERED_UNPAID"  # an invoice order delivered before its invoice is paid
    FULFILLED = "FULFILLED"  # paid and delivered (activated)
    CANCELLED = "CANCELLED"  # called off before delivery, nothing was paid
    REFUNDED = "REFUNDED"  # the money went back to the customer


class Transition(enum.StrEnum):
    PAY = "pay"
    FAIL = "fail"  # a payment provider's failure report; staff do not fail payments
    DELIVER = "deliver"
    CANCEL = "cancel"
    REFUND = "refund"


# From which states each transition leads where. What is not here is an illegal transition.
_MOVES: Mapping[Transition, Mapping[OrderStatus, OrderStatus]] = {
    Transition.PAY: {
        OrderStatus.PENDING_PAYMENT: OrderStatus.PAID,
        OrderStatus.PAYMENT_FAILED: OrderStatus.PAID,  # a retried payment that went through
        OrderStatus.DELIVERED_UNPAID: OrderStatus.FULFILLED,
    },
    Transition.FAIL: {OrderStatus.PENDING_PAYMENT: OrderStatus.PAYMENT_FAILED},
    Transition.DELIVER: {
        OrderStatus.PAID: OrderStatus.FULFILLED,
        OrderStatus.PENDING_PAYMENT: OrderStatus.DELIVERED_UNPAID,  # invoice orders only, see below
    },
    # Only before delivery, and only while nothing is paid: a paid order is called off by refunding it.
    Transition.CANCEL: {
        OrderStatus.PENDING_PAYMENT: OrderStatus.CANCELLED,
        OrderStatus.PAYMENT_FAILED: OrderStatus.CANCELLED,
    },
    # Only after payment.
    Transition.REFUND: {OrderStatus.PAID: OrderStatus.REFUNDED, OrderStatus.FULFILLED: OrderStatus.REFUNDED},
}

# Payment methods whose orders may be delivered before they are paid: an invoice is paid afterwards.
DELIVERED_BEFORE_PAYMENT = frozenset({PaymentMethod.INVOICE})

# States in which an order still holds an erasure of its customer (P13, P24), and why: the shop is still
# owed money or still owes a delivery. Every other state is settled.
HOLDS_ERASURE: Mapping[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: "not paid yet",
    OrderStatus.PAID: "not delivered yet",
    OrderStatus.DELIVERED_UNPAID: "delivered but not paid yet",
}


# The purposes a staff member may declare to make each change: those the order's status is declared for
# that fit the change (taking a payment in or out is bookkeeping). The purpose decides the roles.
STAFF_PURPOSES: Mapping[Transition, frozenset[str]] = {
    Transition.PAY: frozenset({"bookkeeping"}),
    Transition.DELIVER: frozenset({"order_fulfilment"}),
    Transition.CANCEL: frozenset({"order_fulfilment", "customer_service"}),
    Transition.REFUND: frozenset({"bookkeeping"}),
}


class IllegalTransition(Conflict):
    def __init__(self, transition: Transition, status: OrderStatus, message: str) -> None:
        super().__init__(message, reason="illegal_transition", transition=transition.value,
                         orderStatus=status.value)


def next_status(status: OrderStatus, method: PaymentMethod, transition: Transition) -> OrderStatus:
    """The state `transition` leads an order in `status` paid by `method` to; IllegalTransition if none."""
    target = _MOVES[transition].get(status)
    if target is None:
        raise IllegalTransition(transition, status, _refusal(status, transition))
    if transition is Transition.DELIVER and status is OrderStatus.PENDING_PAYMENT \
            and method not in DELIVERED_BEFORE_PAYMENT:
        raise IllegalTransition(transition, status, "This order is not paid yet: only invoice orders are "
                                                    "delivered before payment.")
    return target


def holds_erasure(status: OrderStatus) -> bool:
    return status in HOLDS_ERASURE


def _refusal(status: OrderStatus, transition: Transition) -> str:
    if transition is Transition.CANCEL and status is OrderStatus.PAID:
        return "This order is paid: refund it instead, which also ends it."
    if transition is Transition.CANCEL and status in {OrderStatus.FULFILLED, OrderStatus.DELIVERED_UNPAID}:
        return "This order is delivered: it can no longer be cancelled."
    if transition is Transition.REFUND:
        return "Only a paid order can be refunded."
    return f"An order that is {status.value} cannot be changed this way ({transition.value})."
