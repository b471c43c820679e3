"""`shop-privacy marketing`: abandoned-cart reminders and printed mailings, only to customers with live
marketing consent."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import timedelta
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    marketing = add_parser(commands, "marketing", help="marketing under consent")
    marketing_commands = marketing.add_subparsers(dest="marketing_command", required=True, metavar="COMMAND")
    carts = add_parser(marketing_commands, "abandoned-carts",
                       help="customers with live marketing consent and a cart left alone")
    carts.add_argument("--older-than-hours", type=float, default=24.0,
                       help="a cart untouched this long is abandoned (default: %(default)s)")
    carts.add_argument("--json", action="store_true", help="print the list as JSON (ids, not names or addresses)")
    carts.add_argument("--send", action="store_true", help="send each a reminder (with an unsubscribe link)")
    printed = add_parser(marketing_commands, "printed-mailing",
                         help="hand the printer the names and postal addresses for a printed campaign (P18)")
    printed.add_argument("campaign", help="the campaign, logged as each disclosure's reference")
    printed.add_argument("--customer", action="append", type=uuid.UUID, metavar="ID",
                         help="only these customers (repeatable); default: everyone who answered the marketing "
                              "consent. Each is checked for a live consent as their address goes out")
    marketing.set_defaults(handler=marketing_command)


def marketing_command(args: argparse.Namespace, context: CommandContext) -> int:
    if args.marketing_command == "printed-mailing":
        return _printed_mailing(args, context)
    older_than = timedelta(hours=args.older_than_hours)

    async def work(services: Any) -> Any:
        if args.send:
            return await services.abandoned_carts.send_reminders(older_than)
        return await services.abandoned_carts.candidates(older_than)

    result = context.run(work)
    if args.send:
        print(f"reminders sent: {result}")
    elif args.json:
        # Ids, not names or addresses: the list is for counting and following up; --send does the mailing.
        print(json.dumps([{"customerId": str(c.customer_id), "items": c.items, "grossMinor": c.gross_minor,
                           "cartUpdatedAt": c.cart_updated_at.isoformat()} for c in result], indent=2))
    else:
        for c in result:
            print(f"{c.customer_id}  {c.items:>3} items  {c.gross_minor / 100:>10.2f} SEK  "
                  f"since {c.cart_updated_at:%Y-%m-%d %H:%M}")
        print(f"{len(result)} customers with live marketing consent and an abandoned cart")
    return OK


def _printed_mailing(args: argparse.Namespace, context: CommandContext) -> int:
    async def work(services: Any) -> Any:
        return await services.printed_mailings.send(args.campaign, args.customer)

    mailing = context.run(work)
    # Counts, not who: the disclosure log says who, for the DPO and in each customer's export.
    print(f"to the printer: {len(mailing.sent)}; without live consent: {len(mailing.without_consent)}; "
          f"without a postal address: {len(mailing.without_address)}")
    return OK
