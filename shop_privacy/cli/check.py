"""`shop-privacy check [--deploy]`: the settings, and with --deploy the rules for production
(docs/deployment.md), every problem at once, one line each naming the variable, never its value."""

from __future__ import annotations

import argparse
from typing import Any

from .context import CommandContext, add_parser


def register(commands: Any) -> None:
    check = add_parser(commands, "check", help="check the settings (exit status 1 with every problem, one line each)")
    check.add_argument("--deploy", action="store_true",
                       help="also the rules for production: secret key, URLs, mail server, controller, database")
    check.set_defaults(handler=check_command)


def check_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..deploy_checks import check_command as check

    # A shop that builds its settings in code is checked on those; otherwise the environment is read
    # here, so that every invalid value is reported with the rest rather than stopping at the first.
    settings = context.shop.settings
    return check(deploy=args.deploy, settings=settings)
