"""`shop-privacy ropa`: the record of processing activities, the shop's plugins' data included."""

from __future__ import annotations

import argparse
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    record = add_parser(commands, "ropa", help="the record of processing activities (GDPR Art. 30)")
    record.add_argument("--format", choices=["md", "json", "html"], default="md",
                        help="Markdown, JSON or a standalone HTML page (default: %(default)s)")
    record.add_argument("--lang", choices=["sv", "en"], default="en",
                        help="Swedish or English (default: %(default)s)")
    record.set_defaults(handler=ropa_command)


def ropa_command(args: argparse.Namespace, context: CommandContext) -> int:
    from .. import ropa

    shop = context.shop

    async def configured(services: Any) -> dict[str, Any]:
        # The recipients data can actually go to: those the outbox has an adapter for in this shop
        # (its own and its plugins'; in development every declared one, written to a folder).
        return {key: r for key, r in shop.recipients().items() if key in services.outbox.adapters}

    # Building the services checks the declarations and adds the plugins' purposes and retention rules.
    recipients = context.run(configured)
    print(ropa.render(ropa.build(context.settings, shop.declared_columns(), recipients, language=args.lang),
                      args.format))
    return OK
