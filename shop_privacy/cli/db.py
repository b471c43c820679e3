"""`shop-privacy db`: the package's Alembic migrations, then each plugin's."""

from __future__ import annotations

import argparse
from typing import Any

from .context import OK, PROBLEM, CommandContext, add_parser


def register(commands: Any) -> None:
    db = add_parser(commands, "db", help="database schema (Alembic migrations, the package's and the plugins')")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = add_parser(db_commands, "upgrade", help="migrate to the newest schema, the plugins' tables too")
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="the package's revision to migrate to (default: %(default)s; the plugins are "
                         "migrated only to head)")
    downgrade = add_parser(db_commands, "downgrade", help="migrate back to a revision")
    downgrade.add_argument("revision", help="the revision to go back to (`base`: none)")
    downgrade.add_argument("--plugin", metavar="NAME", help="downgrade this plugin's tables, not the package's")
    add_parser(db_commands, "current", help="show the schema's revisions (exit status 1 when behind)")
    revision = add_parser(db_commands, "revision", help="write a new migration script for a plugin's tables")
    revision.add_argument("--plugin", metavar="NAME", required=True, help="the plugin the migration is for")
    revision.add_argument("-m", "--message", required=True, help="what the migration does (its file name)")
    revision.add_argument("--autogenerate", action="store_true",
                          help="compare the plugin's metadata with the database and write the difference")
    db.set_defaults(handler=db_command)


def db_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..storage import migrate

    url = context.settings.database_url
    shop = context.shop
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision, plugins=shop.plugins)
        migrated = [p.name for p in shop.plugins if p.migrations is not None]
        print(f"Database upgraded to {args.revision}" + (f"; plugins {', '.join(migrated)} to head." if migrated
                                                        else "."))
    elif args.db_command == "downgrade":
        plugin = shop.plugin(args.plugin) if args.plugin else None
        migrate.downgrade(url, args.revision, plugin)
        print(f"{f'Plugin {plugin.name}' if plugin else 'Database'} downgraded to {args.revision}.")
    elif args.db_command == "revision":
        migrate.revision(url, shop.plugin(args.plugin), args.message, autogenerate=args.autogenerate)
    else:
        behind = False
        for plugin in (None, *(p for p in shop.plugins if p.migrations is not None)):
            current, heads = migrate.current_revisions(url, plugin)
            behind = behind or current != heads
            state = "up to date" if current == heads else "behind: run `shop-privacy db upgrade`"
            which = f"plugin {plugin.name}" if plugin else "package"
            print(f"{which}: current: {', '.join(sorted(current)) or 'none'}; code: {', '.join(sorted(heads))} "
                  f"({state})")
        return PROBLEM if behind else OK
    return OK
