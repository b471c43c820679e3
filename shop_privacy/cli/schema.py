"""`shop-privacy schema`: the GraphQL SDL, printed or written to the checked-in files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    schema = add_parser(commands, "schema", help="the GraphQL SDL")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True, metavar="COMMAND")
    printer = add_parser(schema_commands, "print", help="print the storefront (or --admin) SDL")
    printer.add_argument("--admin", action="store_true", help="print the staff schema instead")
    writer = add_parser(schema_commands, "write", help="write schema.graphql and admin.graphql")
    writer.add_argument("directory", nargs="?", default=".", help="where to write them (default: %(default)s)")
    schema.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..schema import export

    if args.schema_command == "write":
        for path in export.write(Path(args.directory)):
            print(f"wrote {path}")
    else:
        print(export.sdl("admin.graphql" if args.admin else "schema.graphql"), end="")
    return OK
