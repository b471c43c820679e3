"""One shop's configuration, in one object: its settings, plugins, payment providers, recipient adapters
and mail backend. The web app, a host app that mounts it and every `shop-privacy` command are built from
the same object, so what the web app sees the command line sees.

    # myshop/config.py
    shop = Shop(plugins=[SUPPORT_TICKETS], payment_providers={PaymentMethod.CARD_STRIPE: MyStripe()},
                recipient_adapters={"stripe": MyStripeAdapter()})

    $ SHOP_PRIVACY_APP=myshop.config:shop shop-privacy db upgrade
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .disclosures.outbox import RecipientAdapter
from .mail.mailer import MailBackend
from .payments.providers import PaymentMethod, PaymentProvider
from .plugins import Plugin
from .privacy.inventory import DeclaredColumn
from .privacy.recipients import RECIPIENTS, Recipient
from .settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .services import Services

# The environment variable that names the shop for the command line, as `--app` does.
APP_VARIABLE = "SHOP_PRIVACY_APP"


@dataclass(frozen=True)
class Shop:
    # None: read from the environment (`SHOP_PRIVACY_…`, `DATABASE_URL`) each time the shop is built.
    settings: Settings | None = None
    plugins: Sequence[Plugin] = ()
    # None: the sandbox in development, none in production (checkout then answers payment_method_unavailable).
    payment_providers: Mapping[PaymentMethod, PaymentProvider] | None = None
    # Adapters by recipient key (see `shop_privacy.privacy.recipients`): they deliver the outbox.
    recipient_adapters: Mapping[str, RecipientAdapter] = field(default_factory=dict)
    # None: SMTP when SHOP_PRIVACY_SMTP_URL is set, else .eml files in the mail outbox folder.
    mail_backend: MailBackend | None = None

    def resolve_settings(self) -> Settings:
        return self.settings if self.settings is not None else Settings()

    def check_declarations(self) -> None:
        """Add the plugins' vocabulary, then check every stored column's declaration, the package's and the
        plugins': raises `VocabularyConflict` or `InventoryError` (naming the valid values)."""
        from .privacy.cookies import check_cookie_tags
        from .privacy.vocabulary import extend
        from .storage.inventory import check_declarations

        for plugin in self.plugins:
            extend(categories=plugin.categories, purposes=plugin.purposes, retention_rules=plugin.retention_rules,
                   source=f"plugin {plugin.name!r}")
        check_cookie_tags()
        check_declarations()
        for plugin in self.plugins:
            if plugin.metadata is not None:
                check_declarations(plugin.metadata)

    def services(self, settings: Settings | None = None) -> Services:
        """Every service, wired for this shop, once its declarations have passed the check."""
        from .services import build_services

        self.check_declarations()
        return build_services(settings or self.resolve_settings(), mail_backend=self.mail_backend,
                              payment_providers=self.payment_providers, plugins=self.plugins,
                              recipient_adapters=self.recipient_adapters)

    def app(self, services: Services | None = None) -> Starlette:
        """The ASGI app: serve it as it is, or mount it in a host app with `mount`."""
        from .app import create_app

        services = services or self.services()
        return create_app(services.settings, services=services)

    def mount(self, host: Starlette, path: str = "/shop", services: Services | None = None) -> Starlette:
        """Mount the shop's app at `path` in a host Starlette (or FastAPI) app, its start-up checks and its
        shutdown running inside the host's lifespan: a shop that cannot serve stops the host's start."""
        from starlette.routing import Mount

        app = self.app(services)
        host.router.routes.append(Mount(path, app=app))
        host_lifespan = host.router.lifespan_context

        @asynccontextmanager
        async def lifespan(host_app: Any) -> AsyncIterator[Any]:
            async with app.router.lifespan_context(app), host_lifespan(host_app) as state:
                yield state

        host.router.lifespan_context = lifespan
        return app

    def declared_columns(self) -> list[DeclaredColumn]:
        """The package's columns and every plugin's, each with its declaration."""
        from .storage.inventory import declared_columns

        return [*declared_columns(), *(c for p in self.plugins if p.metadata is not None
                                       for c in declared_columns(p.metadata))]

    def recipients(self) -> dict[str, Recipient]:
        return {**RECIPIENTS, **{r.key: r for p in self.plugins for r in p.recipients}}

    def plugin(self, name: str) -> Plugin:
        for plugin in self.plugins:
            if plugin.name == name:
                return plugin
        raise ShopLoadError(f"no plugin named {name!r} in this shop (plugins: "
                            f"{', '.join(p.name for p in self.plugins) or 'none'})")


DEFAULT_SHOP = Shop()


class ShopLoadError(ValueError):
    """`--app` (or SHOP_PRIVACY_APP) does not name a usable shop; the message says why, in one line."""


def load_shop(target: str | None) -> Shop:
    """The shop `target` names ("package.module:attribute", a Shop or a function of no arguments returning
    one); the package's defaults when it is empty."""
    if not target:
        return DEFAULT_SHOP
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ShopLoadError(f"{target!r} is not 'module:attribute' (e.g. myshop.config:shop)")
    # As `python -m` and uvicorn do: the shop's package may be in the directory the command runs in.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ShopLoadError(f"{target!r}: cannot import {module_name!r} ({error})") from error
    except Exception as error:
        raise ShopLoadError(f"{target!r}: importing {module_name!r} failed with "
                            f"{type(error).__name__}: {error}") from error
    try:
        found = getattr(module, attribute)
    except AttributeError:
        raise ShopLoadError(f"{target!r}: module {module_name!r} has no attribute {attribute!r}") from None
    if not isinstance(found, Shop) and callable(found):
        try:
            found = found()
        except Exception as error:
            raise ShopLoadError(f"{target!r}: calling {attribute}() failed with "
                                f"{type(error).__name__}: {error}") from error
    if not isinstance(found, Shop):
        raise ShopLoadError(f"{target!r} is a {type(found).__name__}, not a shop_privacy.Shop "
                            "(or a function of no arguments returning one)")
    return found
