"""`shop-privacy marketing`: abandoned-cart reminders, only to customers with live marketing consent."""

from __future__ import annotations

import argparse
import json
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
    marketing.set_defaults(handler=marketing_command)


def marketing_command(args: argparse.Namespace, context: CommandContext) -> int:
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
