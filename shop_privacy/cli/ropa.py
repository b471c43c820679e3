"""`shop-privacy ropa`: the record of processing activities, the shop's plugins' data included."""

from __future__ import annotations

import argparse
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    record = add_parser(commands, "ropa", help="the record of processing activities (GDPR Art. 30)")
    record.add_argument("--format", choices=["md", "json", "html"], default="md",
                        help="Markdown, JSON or a standalone HTML page (default: %(default)s)")
    record.set_defaults(handler=ropa_command)


def ropa_command(args: argparse.Namespace, context: CommandContext) -> int:
    from .. import ropa

    shop = context.shop
    shop.check_declarations()  # which also adds the plugins' purposes and retention rules to the record
    print(ropa.render(ropa.build(context.settings, shop.declared_columns(), shop.recipients()), args.format))
    return OK
