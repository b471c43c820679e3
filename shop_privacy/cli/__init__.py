"""The `shop-privacy` command: serve the shop, migrate its database, run its jobs.

Every command works on the shop named by `--app` (or $SHOP_PRIVACY_APP): its settings, plugins, payment
providers and recipient adapters, as the web app has them. A command group is a module here with a
`register(commands)` function; adding one is that module and a line in `COMMAND_GROUPS`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from . import audit, breaches, check, db, marketing, outbox, retention, rights, ropa, schema, serve, staff
from .context import EXIT_STATUSES, CommandContext, add_common_options
from .failures import describe

COMMAND_GROUPS: tuple[ModuleType, ...] = (serve, db, staff, audit, schema, retention, outbox, ropa, marketing, check,
                                          rights, breaches)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shop_privacy")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop-privacy", description=__doc__.split("\n\n")[0],
                                     epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"shop-privacy {_version()}",
                        help="print the version and exit")
    add_common_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, CommandContext(args.app)))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - every failure becomes one line and an exit status
        status, line = describe(error)
        if args.debug:
            traceback.print_exc()
        print(f"shop-privacy: {line}", file=sys.stderr)
        return status


__all__ = ["COMMAND_GROUPS", "build_parser", "main"]
