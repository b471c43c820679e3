"""`shop-privacy retention run`: the retention sweep, the shop's plugins' steps included."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .context import OK, CommandContext, add_parser


def register(commands: Any) -> None:
    retention = add_parser(commands, "retention", help="apply the retention rules")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True, metavar="COMMAND")
    sweep = add_parser(retention_commands, "run", help="delete or reduce what has no legal basis left (daily, cron)")
    sweep.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    retention.set_defaults(handler=retention_command)


def retention_command(args: argparse.Namespace, context: CommandContext) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn
    from rich.table import Table

    console = Console(stderr=args.json)

    async def work(services: Any) -> Any:
        if args.json or not console.is_terminal:
            return await services.retention.run(dry_run=args.dry_run)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} rows"),
                      console=console, transient=True) as progress:
            tasks: dict[str, Any] = {}

            def advance(step: str, rows: int) -> None:
                if step not in tasks:
                    tasks[step] = progress.add_task(step, total=None)
                progress.advance(tasks[step], rows)

            return await services.retention.run(dry_run=args.dry_run, progress=advance)

    result = context.run(work)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return OK
    table = Table(title="retention dry run: would change" if args.dry_run else "retention run: changed")
    table.add_column("rule")
    table.add_column("rows", justify="right")
    for step, rows in result.steps.items():
        table.add_row(step, str(rows))
    table.add_row("inactive accounts warned", str(result.warned))
    table.add_row("inactive accounts erased", str(result.erased))
    table.add_row("inactive accounts on hold", str(result.held))
    table.add_row("inactive accounts skipped (taken by another run)", str(result.skipped))
    table.add_row("inactive accounts active again, spared", str(result.spared))
    table.add_row("held erasures completed", str(result.resumed))
    if result.access_log_checkpoint is not None:
        table.add_row("access log checkpoint", str(result.access_log_checkpoint))
    console.print(table)
    return OK
