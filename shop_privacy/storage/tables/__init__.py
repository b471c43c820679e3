"""All tables; importing this package registers them on `SQLModel.metadata`."""

from .auth import AuthSession, LoginThrottle, PasswordResetToken
from .carts import Cart, CartLine
from .catalogue import Product
from .customers import Customer, PendingRegistration
from .orders import Order, OrderLine

__all__ = [
    "AuthSession",
    "Cart",
    "CartLine",
    "Customer",
    "LoginThrottle",
    "Order",
    "OrderLine",
    "PasswordResetToken",
    "PendingRegistration",
    "Product",
]
