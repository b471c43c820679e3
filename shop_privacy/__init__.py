"""shop_privacy: a privacy-first GraphQL backend for web shops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .settings import Settings
    from .shop import Shop

__all__ = ["Settings", "Shop", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import shop_privacy.privacy` (the leaf core) does not import the web stack.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "Shop":
        from .shop import Shop

        return Shop
    raise AttributeError(name)
