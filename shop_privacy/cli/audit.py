"""`shop-privacy audit`: verify the access log and checkpoint its end. Cron and monitoring read the exit
status alone, so nothing here ends in a traceback: 2 says that there is no answer."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from .context import CommandContext, CommandFailed, add_parser, run_to_the_end

AUDIT_INTACT, AUDIT_TAMPERED, AUDIT_NOT_CHECKED = 0, 1, 2
_AUDIT_EXIT_STATUS = """exit status:
  0  intact: every row as written, the append-only triggers in place, and (with a checkpoint) every row
     the newest checkpoint saw still there
  1  tampered: a row changed, missing or cut, a trigger missing, altered or disabled, or a checkpoint
     not signed with this shop's secret key (nothing is written by `checkpoint` then)
  2  not checked: bad arguments or configuration, database unreachable or not migrated, checkpoint
     file missing, unreadable or empty
Each outcome ends with one line on standard output (2: on standard error)."""


def register(commands: Any) -> None:
    audit = add_parser(commands, "audit", help="the access log", epilog=_AUDIT_EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = add_parser(
        audit_commands, "verify",
        help="check the hash chain, the append-only triggers and, with a checkpoint, the log's end",
        description="Walks the access log's hash chain, checks that the database still refuses changes to it, "
        "and, given a checkpoint file, that every row the newest checkpoint in it saw is still there, "
        "unchanged. Without a checkpoint, rows cut from the end (or all of them) cannot be noticed.",
        epilog=_AUDIT_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("--checkpoint", metavar="PATH",
                        help="a checkpoint file (or its directory) written by `audit checkpoint`; "
                        "default: $SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE if set")
    checkpoint = add_parser(
        audit_commands, "checkpoint",
        help="verify, then append a signed checkpoint of the log's end to a file (cron)",
        description="Verifies the log (against the newest checkpoint already in the file, if any) and, if it "
        "is intact, appends a checkpoint of its last row, signed with a key derived from the secret key. "
        "Keep the file off the database host.",
        epilog=_AUDIT_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    checkpoint.add_argument("--file", metavar="PATH",
                            help="the checkpoint file (JSON lines, appended to) or a directory for it; "
                            "default: $SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE")
    audit.set_defaults(handler=audit_command)


def _not_checked(reason: str) -> int:
    print(f"shop-privacy audit: not checked: {reason}", file=sys.stderr)
    return AUDIT_NOT_CHECKED


def _failure(error: BaseException) -> str:
    """What went wrong, by type only: a driver's message may quote a URL or the SQL it ran."""
    original = getattr(error, "orig", None)
    return type(original or error).__name__


def audit_command(args: argparse.Namespace, context: CommandContext) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from ..audit.checkpoints import ENVIRONMENT_VARIABLE, CheckpointFileError
    from ..shop import ShopLoadError

    try:
        settings = context.settings
    except ShopLoadError as error:
        return _not_checked(f"--app: {error}")
    except CommandFailed as error:
        return _not_checked(str(error).replace("\n", "; "))
    named = args.file if args.audit_command == "checkpoint" else args.checkpoint
    path = Path(named) if named else (Path(os.environ[ENVIRONMENT_VARIABLE])
                                      if os.environ.get(ENVIRONMENT_VARIABLE) else None)
    if args.audit_command == "checkpoint" and path is None:
        return _not_checked(f"name the checkpoint file with --file or {ENVIRONMENT_VARIABLE}")

    async def work() -> int:
        services = context.shop.services(settings)
        try:
            log = services.access_log
            if args.audit_command == "checkpoint":
                assert path is not None
                run = await log.checkpoint(path)
                result, written, target = run.verification, run.written, run.path
            else:
                held = None
                if path is not None:
                    from ..audit import checkpoints

                    held = await asyncio.to_thread(checkpoints.read, path, log.checkpoint_key)
                    if held.empty:
                        raise CheckpointFileError(f"{held.path} holds no checkpoint")
                result, written, target = await log.verify(checkpoints=held), None, None
        finally:
            await services.close()
        for problem in result.problems:
            print(f"FAIL {problem}")
        if not result.ok:
            print(f"access log: {result.rows} rows, TAMPERED"
                  + ("; no checkpoint written" if args.audit_command == "checkpoint" else ""))
            return AUDIT_TAMPERED
        if written is not None:
            print(f"access log: {result.rows} rows, intact; checkpoint at row {written.sequence} "
                  f"appended to {target}")
        elif result.checkpoint is not None:
            print(f"access log: {result.rows} rows, intact; matches the {result.checkpoint.describe()}")
        else:
            print(f"access log: {result.rows} rows, intact (no checkpoint given: a cut tail would not show)")
        return AUDIT_INTACT

    try:
        return int(run_to_the_end(work()))
    except CheckpointFileError as error:
        return _not_checked(f"checkpoint file: {error}")
    except (SQLAlchemyError, OSError) as error:
        return _not_checked(f"cannot read the access log from the database ({_failure(error)})")
    except Exception as error:  # noqa: BLE001 - the promise is an exit status, never a traceback
        if getattr(args, "debug", False):
            raise
        return _not_checked(f"unexpected {_failure(error)}")
