"""`shop-privacy serve`: the shop's app under uvicorn, migrated first unless told otherwise."""

from __future__ import annotations

import argparse
from typing import Any

from .context import PROBLEM, CommandContext, CommandFailed, add_parser, run_to_the_end


def register(commands: Any) -> None:
    serve = add_parser(commands, "serve", help="serve the shop's GraphQL API (migrating the database first)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on (default: %(default)s)")
    serve.add_argument("--demo", action="store_true",
                       help="seed a demo catalogue and customer (refused on a database with other customers)")
    serve.add_argument("--no-migrate", action="store_true", help="do not run `db upgrade` first")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                       help="uvicorn's log level (default: %(default)s)")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-For from --forwarded-allow-ips (behind a reverse proxy)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="the proxies whose X-Forwarded-For is trusted (default: %(default)s)")
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace, context: CommandContext) -> int:
    import uvicorn

    from ..deploy_checks import deployment_problems
    from ..logs import uvicorn_log_config
    from ..storage.migrate import upgrade

    settings = context.settings
    if settings.production and (problems := deployment_problems(settings, demo=args.demo)):
        raise CommandFailed("refusing to start in production:\n" + "\n".join(p.line for p in problems), PROBLEM)
    if args.demo and settings.account_pages_served and "storefront_url" not in settings.model_fields_set:
        # The demo has no storefront but the account pages: the mails' links (confirm the address, reset the
        # password, download the export) land there, unless SHOP_PRIVACY_STOREFRONT_URL says otherwise.
        settings = settings.model_copy(update={"storefront_url": f"http://{args.host}:{args.port}/account"})
    if not args.no_migrate:
        upgrade(settings.database_url, plugins=context.shop.plugins)
    services = context.shop.services(settings)
    if args.demo:
        from ..demo import DEMO_EMAIL, DEMO_PASSWORD, customers_besides_demo, seed_demo

        async def seed() -> Any:
            try:
                others = await customers_besides_demo(services)
                if others:
                    raise CommandFailed(f"refused: --demo on a database that holds {others} other customer(s); "
                                        "demo data belongs in a database of its own", PROBLEM)
                return await seed_demo(services)
            finally:
                await services.close()

        seeded = run_to_the_end(seed())
        print(f"Demo data: {seeded.products_added} products added; demo customer "
              f"{'created' if seeded.customer_created else 'already there'}.")
        print(f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}")
    app = context.shop.app(services)
    print(f"Storefront GraphQL: http://{args.host}:{args.port}/graphql")
    if settings.account_pages_served:
        # The account mails link to SHOP_PRIVACY_STOREFRONT_URL: point it at these pages to follow them here.
        print(f"Account pages: http://{args.host}:{args.port}/account/ (mail links go to {settings.storefront_url})")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=uvicorn_log_config(settings),
                proxy_headers=args.proxy_headers, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0
