"""`shop-privacy outbox`: deliver messages to recipients through the shop's adapters."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    outbox = add_parser(commands, "outbox", help="messages to recipients (payment providers, newsletters, …) "
                        "and queued account mails")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    deliver = add_parser(outbox_commands, "run", help="deliver due messages and account mails, with retries")
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then stop")
    deliver.add_argument("--interval", type=float, default=10.0,
                         help="seconds between rounds (default: %(default)s)")
    add_parser(outbox_commands, "status", help="messages per recipient and status; account mails per status; "
               "data-subject requests due soon and overdue")
    outbox.set_defaults(handler=outbox_command)


def outbox_command(args: argparse.Namespace, context: CommandContext) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from ..mail.report import run_line, status_lines
    from ..rights.overdue import summary_line
    from ..storage.tables import OutboxMessage

    async def work(services: Any) -> None:
        if args.outbox_command == "status":
            async with services.db.read() as session:
                rows = (await session.exec(select(OutboxMessage.recipient, OutboxMessage.status, func.count())
                                           .group_by(OutboxMessage.recipient, OutboxMessage.status))).all()
            for recipient, status, count in sorted(rows):
                adapter = "adapter" if recipient in services.outbox.adapters else "NO ADAPTER"
                print(f"{recipient:<18} {status:<10} {count:>7}  ({adapter})")
            print("\n".join(status_lines(await services.mail_queue.status())))
            due = await services.rights.deadlines.due()
            print(f"data-subject requests: {summary_line(due, services.settings.request_reminder_days)}"
                  + (" (shop-privacy rights overdue lists them)" if due else ""))
            return
        while True:
            run = await services.outbox.run_until_idle()
            print(f"delivered {run.delivered}, to retry {run.retried}, failed {run.failed}")
            # The DPO's reminder of requests due soon or late: at most one mail a day per request and state.
            reminded = await services.rights.deadlines.remind()
            if reminded.requests:
                print(f"reminded the DPO of {len(reminded.requests)} data-subject request(s)")
            print(run_line(await services.mail_queue.run_until_idle()))
            if args.once:
                return
            await asyncio.sleep(args.interval)

    context.run(work)
    return OK
