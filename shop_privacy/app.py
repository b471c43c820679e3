"""The ASGI app factory: `create_app(settings)` gives a Starlette app a shop can mount anywhere."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from .deploy_checks import deployment_problems
from .disclosures.outbox import RecipientAdapter
from .mail.mailer import MailBackend
from .payments.providers import PaymentMethod, PaymentProvider
from .plugins import Plugin
from .schema.admin_schema import admin_schema
from .schema.core.context import AdminContext
from .schema.storefront import storefront_schema
from .services import Services, build_services
from .settings import Settings, SettingsError
from .storage.inventory import check_declarations
from .storage.migrate import check_at_head
from .web.account_pages import account_page_routes
from .web.cross_origin import CrossOriginPolicy, origin_of
from .web.export_download import export_download_route
from .web.faults import DatabaseFaults
from .web.gc_tuning import tune_garbage_collector
from .web.graphql_view import GraphQLView
from .web.health import health_routes
from .web.log_context import RequestIdLogContext
from .web.middleware import BodySizeLimit, SecurityHeaders, redact_access_log
from .web.payment_callbacks import payment_callback_routes
from .web.startup import Startup, StartupFirst
from .web.trusted_documents import TrustedDocuments
from .web.unsubscribe import unsubscribe_routes

logger = logging.getLogger("shop_privacy")

MAX_BODY_BYTES = 256 * 1024


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    mail_backend: MailBackend | None = None,
    payment_providers: Mapping[PaymentMethod, PaymentProvider] | None = None,
    plugins: Sequence[Plugin] = (),
    recipient_adapters: Mapping[str, RecipientAdapter] | None = None,
) -> Starlette:
    settings = settings or Settings()
    if settings.production and (problems := deployment_problems(settings)):
        # The same lines as `shop-privacy check --deploy`, each naming a variable, never its value.
        raise SettingsError.of(problems)
    # Export and unsubscribe tokens are in request paths: keep them out of the server's access log (P21).
    redact_access_log()
    services = services or build_services(settings, mail_backend=mail_backend, payment_providers=payment_providers,
                                          plugins=plugins, recipient_adapters=recipient_adapters)
    # Undeclared personal data stops the start (P02), before anything is served.
    check_declarations()
    for plugin in services.plugins:
        if plugin.metadata is not None:
            check_declarations(plugin.metadata)
    storefront = GraphQLView(storefront_schema(settings), services, graphiql=not settings.production,
                             trusted_documents=TrustedDocuments.from_settings(settings))
    staff = GraphQLView(admin_schema(settings), services, graphiql=not settings.production,
                        context_class=AdminContext)

    # The schema at the migration heads, the plugins' tables there: by the lifespan, or by the first
    # request where a host app mounts this one without running its lifespan.
    startup = Startup(lambda: check_at_head(services.db, services.plugins))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await startup.ensure()
        tune_garbage_collector(settings.gc_generation0_threshold)
        logger.info("shop_privacy started environment=%s database=%s", settings.environment,
                    services.db.url.url.get_backend_name())
        yield
        await services.close()

    app = Starlette(
        routes=[
            Route("/graphql", storefront, methods=["GET", "POST"]),
            Route("/admin/graphql", staff, methods=["GET", "POST"]),
            export_download_route(services),
            *unsubscribe_routes(services),
            *payment_callback_routes(services),
            *health_routes(services.db, services.plugins),
            *(account_page_routes() if settings.account_pages_served else ()),
        ],
        middleware=request_middleware(settings, startup),
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.startup = startup
    return app


def request_middleware(settings: Settings, startup: Startup) -> list[Middleware]:
    """What every request passes through, outermost first (also what bench/ wraps its unenforced app in,
    so that the two differ only by enforcement)."""
    return [
        # Log lines written for a request carry its id, whatever answers it.
        Middleware(RequestIdLogContext),
        # Then: preflights are answered, and foreign origins' cookie-carrying writes refused, first.
        Middleware(CrossOriginPolicy, allowed_origins=settings.cors_allowed_origins,
                   own_origins=(origin_of(settings.api_url),)),
        Middleware(SecurityHeaders, hsts=settings.production),
        Middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES),
        Middleware(StartupFirst, startup=startup),
        # Innermost: a database fault escaping a route becomes a 503 that still gets the headers above.
        Middleware(DatabaseFaults),
    ]
