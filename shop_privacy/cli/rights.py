"""`shop-privacy rights`: the erasure ledger, and re-applying it to a restored backup (docs/backups.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .context import OK, PROBLEM, CommandContext, add_parser


def register(commands: Any) -> None:
    from ..rights.ledger_commands import EXIT_STATUS_HELP

    rights = add_parser(commands, "rights", help="the erasure ledger: keep erasures through a backup restore",
                        epilog=EXIT_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    rights_commands = rights.add_subparsers(dest="rights_command", required=True, metavar="COMMAND")
    ledger = add_parser(rights_commands, "ledger", help="the erasure ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    export = add_parser(ledger_commands, "export",
                        help="write the database's erasure ledger as signed JSON lines to standard output")
    export.add_argument("--since", metavar="DATE", help="only erasures from then on (ISO date or time, UTC)")
    reapply = add_parser(rights_commands, "reapply",
                         help="erase again, in a restored backup, everyone the erasure ledger lists",
                         epilog=EXIT_STATUS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    reapply.add_argument("--ledger", metavar="FILE",
                         help="the ledger file (or its directory); default: $SHOP_PRIVACY_ERASURE_LEDGER_FILE")
    reapply.add_argument("--dry-run", action="store_true", help="report what would be erased; change nothing")
    reapply.add_argument("--json", action="store_true", help="print the report as JSON")
    overdue = add_parser(rights_commands, "overdue",
                         help="open data-subject requests due within --within-days, and overdue ones "
                         "(exit status 1 when any is overdue)")
    overdue.add_argument("--within-days", type=int, default=7, metavar="DAYS",
                         help="how far ahead to look (default: %(default)s)")
    overdue.add_argument("--json", action="store_true", help="print the requests as JSON")
    remind = add_parser(rights_commands, "remind",
                        help="mail the DPO ($SHOP_PRIVACY_DPO_EMAIL) the requests due within "
                        "$SHOP_PRIVACY_REQUEST_REMINDER_DAYS and the overdue ones not yet mailed today in that state "
                        "(`outbox run` does this every round too)")
    remind.add_argument("--json", action="store_true", help="print the requests mailed about as JSON")
    rights.set_defaults(handler=rights_command)


def rights_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..rights import ledger_commands

    if args.rights_command == "overdue":
        return overdue_command(args, context)
    if args.rights_command == "remind":
        return remind_command(args, context)

    settings, shop = context.settings, context.shop
    if args.rights_command == "ledger":
        return ledger_commands.export_ledger(args.since, settings=settings, services_for=shop.services)
    return ledger_commands.reapply(args.ledger, dry_run=args.dry_run, as_json=args.json, settings=settings,
                                   services_for=shop.services)


def overdue_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..rights.overdue import due_requests, print_due, window
    from ..storage.types import utc_now

    now = utc_now()

    async def work(services: Any) -> Any:
        async with services.db.read() as session:
            return await services.rights.queue.due_by(session, now + window(args.within_days))

    due = due_requests(context.run(work), now)
    print_due(due, sys.stdout, as_json=args.json, within_days=args.within_days)
    return PROBLEM if any(item.overdue for item in due) else OK


def remind_command(args: argparse.Namespace, context: CommandContext) -> int:
    import json

    async def work(services: Any) -> Any:
        return await services.rights.deadlines.remind()

    reminded = context.run(work)
    if args.json:
        print(json.dumps([item.as_json() for item in reminded.requests], indent=2))
    else:
        print(f"reminded the DPO of {len(reminded.requests)} request(s)")
    return OK
