"""All tables; importing this package registers them on `SQLModel.metadata`."""

from .access_log import AccessLogEntry
from .auth import AuthSession, LoginThrottle, PasswordResetToken
from .breaches import BreachEntry
from .carts import Cart, CartLine
from .catalogue import Product
from .consents import Consent
from .customers import Customer, PendingRegistration
from .disclosures import Disclosure, OutboxMessage
from .erasure_ledger import ErasureLedgerEntry
from .mail import AccountMail
from .orders import Order, OrderEvent, OrderLine
from .processing_limits import ProcessingLimit
from .rights import Rectification, SubjectRequest
from .staff import StaffSession, StaffUser

__all__ = [
    "AccessLogEntry",
    "AccountMail",
    "AuthSession",
    "BreachEntry",
    "Cart",
    "CartLine",
    "Consent",
    "Customer",
    "Disclosure",
    "ErasureLedgerEntry",
    "LoginThrottle",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxMessage",
    "PasswordResetToken",
    "ProcessingLimit",
    "PendingRegistration",
    "Product",
    "Rectification",
    "StaffSession",
    "StaffUser",
    "SubjectRequest",
]
