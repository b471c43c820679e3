"""The session and cart cookies: HttpOnly, SameSite=Lax; Secure and `__Host-` in production."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from ...settings import Settings


@dataclass(frozen=True)
class CookiePolicy:
    session_name: str
    cart_name: str
    staff_name: str
    visitor_name: str
    secure: bool
    session_max_age: int
    cart_max_age: int
    staff_max_age: int
    visitor_max_age: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CookiePolicy:
        prefix = "__Host-" if settings.production else ""
        return cls(
            session_name=f"{prefix}sp_session",
            cart_name=f"{prefix}sp_cart",
            staff_name=f"{prefix}sp_staff",
            visitor_name=f"{prefix}sp_visitor",
            secure=settings.production,
            session_max_age=settings.session_absolute_timeout_seconds,
            cart_max_age=settings.cart_cookie_max_age_seconds,
            staff_max_age=settings.staff_session_absolute_timeout_seconds,
            visitor_max_age=settings.visitor_cookie_max_age_seconds,
        )

    def set(self, response: Response, name: str, value: str, max_age: int) -> None:
        # Path=/ and no Domain: what the __Host- prefix requires.
        response.set_cookie(name, value, max_age=max_age, path="/", secure=self.secure, httponly=True,
                            samesite="lax")

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")

    def session_token(self, request: Request) -> str | None:
        """A bearer token (server-side storefronts) wins over the cookie (browsers)."""
        return _bearer(request) or request.cookies.get(self.session_name)

    def visitor_token(self, request: Request) -> str | None:
        return request.headers.get("x-visitor-token") or request.cookies.get(self.visitor_name)

    def staff_session_token(self, request: Request) -> str | None:
        return _bearer(request) or request.cookies.get(self.staff_name)

    def cart_token(self, request: Request) -> str | None:
        return request.headers.get("x-cart-token") or request.cookies.get(self.cart_name)


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None
