"""The `shop-privacy` command: serve the API, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from .logs import configure_logging
from .settings import Settings, settings_problems


def _settings() -> Settings:
    """The settings, or every problem with them, one line each, naming the variable and never its value."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise SystemExit("shop-privacy: configuration error:\n" + "\n".join(settings_problems(error))) from None
    configure_logging(settings)
    return settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .deploy_checks import deployment_problems
    from .logs import uvicorn_log_config
    from .services import build_services
    from .storage.migrate import upgrade

    settings = _settings()
    if settings.production and (problems := deployment_problems(settings, demo=args.demo)):
        raise SystemExit("shop-privacy: refusing to start in production:\n" + "\n".join(p.line for p in problems))
    if not args.no_migrate:
        upgrade(settings.database_url)
    services = build_services(settings)
    if args.demo:
        from .demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

        seeded = asyncio.run(seed_demo(services))
        asyncio.run(services.db.dispose())
        print(f"Demo data: {seeded.products_added} products added; demo customer "
              f"{'created' if seeded.customer_created else 'already there'}.")
        print(f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}")
    app = create_app(settings, services=services)
    print(f"Storefront GraphQL: http://{args.host}:{args.port}/graphql")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=uvicorn_log_config(settings),
                proxy_headers=args.proxy_headers, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


def _db(args: argparse.Namespace) -> int:
    from .storage import migrate

    settings = _settings()
    if args.db_command == "upgrade":
        migrate.upgrade(settings.database_url, args.revision)
        print(f"Database upgraded to {args.revision}.")
    elif args.db_command == "downgrade":
        migrate.downgrade(settings.database_url, args.revision)
        print(f"Database downgraded to {args.revision}.")
    else:
        current, heads = migrate.current_revisions(settings.database_url)
        state = "up to date" if current == heads else "behind: run `shop-privacy db upgrade`"
        print(f"current: {', '.join(sorted(current)) or 'none'}; code: {', '.join(sorted(heads))} ({state})")
    return 0


def _services_command(work: Any) -> Any:
    """Runs `work(services)` with the services of the configured app, closing them afterwards."""
    from .services import build_services

    services = build_services(_settings())

    async def run() -> Any:
        try:
            return await work(services)
        finally:
            await services.mailer.flush()
            await services.db.dispose()

    return asyncio.run(run())


def _staff(args: argparse.Namespace) -> int:
    import getpass

    from .errors import ShopError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("shop-privacy: the passwords differ")

    async def create(services: Any) -> Any:
        return await services.staff.create(
            {"email": args.email, "display_name": args.name, "role": args.role, "password": password})

    try:
        staff = _services_command(create)
    except ShopError as error:
        raise SystemExit(f"shop-privacy: {error.message}") from None
    print(f"Staff user {staff.id} created with role {staff.role}.")
    return 0


# `audit verify` and `audit checkpoint` answer cron and monitoring by their exit status alone.
AUDIT_INTACT, AUDIT_TAMPERED, AUDIT_NOT_CHECKED = 0, 1, 2
_AUDIT_EXIT_STATUS = """exit status:
  0  intact: every row as written, the append-only triggers in place, and (with a checkpoint) every row
     the newest checkpoint saw still there
  1  tampered: a row changed, missing or cut, a trigger missing, altered or disabled, or a checkpoint
     not signed with this shop's secret key (nothing is written by `checkpoint` then)
  2  not checked: bad arguments or configuration, database unreachable or not migrated, checkpoint
     file missing, unreadable or empty
Each outcome ends with one line on standard output (2: on standard error)."""


def _audit_not_checked(reason: str) -> int:
    print(f"shop-privacy audit: not checked: {reason}", file=sys.stderr)
    return AUDIT_NOT_CHECKED


def _failure(error: BaseException) -> str:
    """What went wrong, by type only: a driver's message may quote a URL or the SQL it ran."""
    original = getattr(error, "orig", None)
    return type(original or error).__name__


def _run_to_the_end(work: Any) -> Any:
    """`asyncio.run`, except that the loop is closed only after the threads the work started have ended:
    after a failed connect, aiosqlite's worker thread still hands its last result to the loop, and on a
    closed loop it dies with a traceback on standard error."""
    import threading

    before = set(threading.enumerate())
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            for thread in set(threading.enumerate()) - before:
                if not thread.daemon:
                    thread.join(timeout=10)
        finally:
            loop.close()


def _audit(args: argparse.Namespace) -> int:
    """Never a traceback: the exit status is the answer, and 2 says that there is none."""
    import os
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError

    from .audit.checkpoints import ENVIRONMENT_VARIABLE, CheckpointFileError
    from .services import build_services

    try:
        settings = Settings()
    except ValidationError as error:
        return _audit_not_checked("configuration error: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()))
    named = args.file if args.audit_command == "checkpoint" else args.checkpoint
    path = Path(named) if named else (Path(os.environ[ENVIRONMENT_VARIABLE])
                                      if os.environ.get(ENVIRONMENT_VARIABLE) else None)
    if args.audit_command == "checkpoint" and path is None:
        return _audit_not_checked(f"name the checkpoint file with --file or {ENVIRONMENT_VARIABLE}")

    async def work() -> int:
        services = build_services(settings)
        try:
            log = services.access_log
            if args.audit_command == "checkpoint":
                assert path is not None
                run = await log.checkpoint(path)
                result, written, target = run.verification, run.written, run.path
            else:
                held = None
                if path is not None:
                    from .audit import checkpoints

                    held = await asyncio.to_thread(checkpoints.read, path, log.checkpoint_key)
                    if held.empty:
                        raise CheckpointFileError(f"{held.path} holds no checkpoint")
                result, written, target = await log.verify(checkpoints=held), None, None
        finally:
            await services.db.dispose()
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
        return int(_run_to_the_end(work()))
    except CheckpointFileError as error:
        return _audit_not_checked(f"checkpoint file: {error}")
    except (SQLAlchemyError, OSError) as error:
        return _audit_not_checked(f"cannot read the access log from the database ({_failure(error)})")
    except Exception as error:  # noqa: BLE001 - the promise is an exit status, never a traceback
        return _audit_not_checked(f"unexpected {_failure(error)}")


def _schema(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .schema import export

    if args.schema_command == "write":
        for path in export.write(Path(args.directory)):
            print(f"wrote {path}")
    else:
        print(export.sdl("admin.graphql" if args.admin else "schema.graphql"), end="")
    return 0


def _retention(args: argparse.Namespace) -> int:
    import json

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

    result = _services_command(work)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
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
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from .mail.report import run_line, status_lines
    from .storage.tables import OutboxMessage

    async def work(services: Any) -> None:
        if args.outbox_command == "status":
            async with services.db.read() as session:
                rows = (await session.exec(select(OutboxMessage.recipient, OutboxMessage.status, func.count())
                                           .group_by(OutboxMessage.recipient, OutboxMessage.status))).all()
            for recipient, status, count in sorted(rows):
                adapter = "adapter" if recipient in services.outbox.adapters else "NO ADAPTER"
                print(f"{recipient:<18} {status:<10} {count:>7}  ({adapter})")
            print("\n".join(status_lines(await services.mail_queue.status())))
            return
        while True:
            run = await services.outbox.run_until_idle()
            print(f"delivered {run.delivered}, to retry {run.retried}, failed {run.failed}")
            print(run_line(await services.mail_queue.run_until_idle()))
            if args.once:
                return
            await asyncio.sleep(args.interval)

    _services_command(work)
    return 0


def _ropa(args: argparse.Namespace) -> int:
    from . import ropa
    from .privacy.recipients import RECIPIENTS
    from .storage.inventory import declared_columns

    print(ropa.render(ropa.build(_settings(), declared_columns(), RECIPIENTS), args.format))
    return 0


def _marketing(args: argparse.Namespace) -> int:
    import json
    from datetime import timedelta

    older_than = timedelta(hours=args.older_than_hours)

    async def work(services: Any) -> Any:
        if args.send:
            return await services.abandoned_carts.send_reminders(older_than)
        return await services.abandoned_carts.candidates(older_than)

    result = _services_command(work)
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
    return 0


def _check(args: argparse.Namespace) -> int:
    from .deploy_checks import check_command

    return check_command(deploy=args.deploy)


def _rights(args: argparse.Namespace) -> int:
    from .rights import ledger_commands

    if args.rights_command == "ledger":
        return ledger_commands.export_ledger(args.since)
    return ledger_commands.reapply(args.ledger, dry_run=args.dry_run, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop-privacy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo catalogue and customer")
    serve.add_argument("--no-migrate", action="store_true", help="do not run `db upgrade` first")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-For from --forwarded-allow-ips (behind a reverse proxy)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database schema (Alembic migrations)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate to the newest schema")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate back to a revision")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="show the schema's revision")
    db.set_defaults(handler=_db)

    staff = commands.add_parser("staff", help="staff users")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser("create", help="create a staff user (asks for the password)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["support", "fulfilment", "accounting", "marketing", "dpo"])
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    staff.set_defaults(handler=_staff)

    audit = commands.add_parser("audit", help="the access log", epilog=_AUDIT_EXIT_STATUS,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain, the append-only triggers and, with a checkpoint, the log's end",
        description="Walks the access log's hash chain, checks that the database still refuses changes to it, "
        "and, given a checkpoint file, that every row the newest checkpoint in it saw is still there, "
        "unchanged. Without a checkpoint, rows cut from the end (or all of them) cannot be noticed.",
        epilog=_AUDIT_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("--checkpoint", metavar="PATH",
                        help="a checkpoint file (or its directory) written by `audit checkpoint`; "
                        "default: $SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE if set")
    checkpoint = audit_commands.add_parser(
        "checkpoint", help="verify, then append a signed checkpoint of the log's end to a file (cron)",
        description="Verifies the log (against the newest checkpoint already in the file, if any) and, if it "
        "is intact, appends a checkpoint of its last row, signed with a key derived from the secret key. "
        "Keep the file off the database host.",
        epilog=_AUDIT_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    checkpoint.add_argument("--file", metavar="PATH",
                            help="the checkpoint file (JSON lines, appended to) or a directory for it; "
                            "default: $SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE")
    audit.set_defaults(handler=_audit)

    schema = commands.add_parser("schema", help="the GraphQL SDL")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    printer = schema_commands.add_parser("print", help="print the storefront (or --admin) SDL")
    printer.add_argument("--admin", action="store_true")
    writer = schema_commands.add_parser("write", help="write schema.graphql and admin.graphql")
    writer.add_argument("directory", nargs="?", default=".")
    schema.set_defaults(handler=_schema)

    retention = commands.add_parser("retention", help="apply the retention rules")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    sweep = retention_commands.add_parser("run", help="delete or reduce what has no legal basis left")
    sweep.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    retention.set_defaults(handler=_retention)

    outbox = commands.add_parser("outbox", help="messages to recipients (payment providers, newsletters, …) "
                                 "and queued account mails")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    deliver = outbox_commands.add_parser("run", help="deliver due messages and account mails, with retries")
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then stop")
    deliver.add_argument("--interval", type=float, default=10.0, help="seconds between rounds")
    outbox_commands.add_parser("status", help="messages per recipient and status; account mails per status")
    outbox.set_defaults(handler=_outbox)

    record = commands.add_parser("ropa", help="the record of processing activities (GDPR Art. 30)")
    record.add_argument("--format", choices=["md", "json", "html"], default="md")
    record.set_defaults(handler=_ropa)

    marketing = commands.add_parser("marketing", help="marketing under consent")
    marketing_commands = marketing.add_subparsers(dest="marketing_command", required=True)
    carts = marketing_commands.add_parser("abandoned-carts", help="customers with live marketing consent and a "
                                          "cart left alone")
    carts.add_argument("--older-than-hours", type=float, default=24.0)
    carts.add_argument("--json", action="store_true")
    carts.add_argument("--send", action="store_true", help="send each a reminder (with an unsubscribe link)")
    marketing.set_defaults(handler=_marketing)

    check = commands.add_parser("check", help="check the settings (exit status 1 with every problem, one line each)")
    check.add_argument("--deploy", action="store_true",
                       help="also the rules for production: secret key, URLs, mail server, controller, database")
    check.set_defaults(handler=_check)

    from .rights.ledger_commands import EXIT_STATUS_HELP as rights_epilog

    rights = commands.add_parser("rights", help="the erasure ledger: keep erasures through a backup restore",
                                 epilog=rights_epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    rights_commands = rights.add_subparsers(dest="rights_command", required=True)
    ledger = rights_commands.add_parser("ledger", help="the erasure ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_export = ledger_commands.add_parser("export", help="write the database's erasure ledger as signed "
                                               "JSON lines to standard output")
    ledger_export.add_argument("--since", metavar="DATE", help="only erasures from then on (ISO date or time, UTC)")
    reapply = rights_commands.add_parser(
        "reapply", help="erase again, in a restored backup, everyone the erasure ledger lists",
        epilog=rights_epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    reapply.add_argument("--ledger", metavar="FILE", help="the ledger file (or its directory); default: "
                         "$SHOP_PRIVACY_ERASURE_LEDGER_FILE")
    reapply.add_argument("--dry-run", action="store_true", help="report what would be erased; change nothing")
    reapply.add_argument("--json", action="store_true", help="print the report as JSON")
    rights.set_defaults(handler=_rights)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
