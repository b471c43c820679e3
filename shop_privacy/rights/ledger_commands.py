"""The `shop-privacy rights` commands: `ledger export` and `reapply`, for the backup and restore
procedure (docs/backups.md). They answer with an exit status (EXIT_STATUS_HELP)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..settings import Settings, settings_problems
from . import ledger as ledger_file

if TYPE_CHECKING:
    from .reapply import ReapplyReport

EXIT_OK, EXIT_REFUSED, EXIT_NOT_RUN = 0, 1, 2
EXIT_STATUS_HELP = """exit status:
  0  done (reapply: every line of the ledger file signed with this shop's key)
  1  something refused: a line of the ledger file not signed with this shop's key, or not an entry
     (the other entries are applied; nothing is done for the refused lines)
  2  could not run: configuration, the database (unreachable, or not migrated: run `db upgrade`),
     the ledger file missing or unreadable
Each run ends with a summary on standard output (2: one line on standard error)."""
T = TypeVar("T")


class CommandError(Exception):
    """Why the command could not run, in one line without personal data or secrets."""


def parse_since(value: str) -> datetime:
    """An ISO date or date and time; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: not an ISO date or time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Builds the services a command works with: the shop's (`--app`), else the package's defaults.
ServicesFor = Callable[[Settings], Any]


def _with_services(settings: Settings, work: Callable[[Any], Awaitable[T]], services_for: ServicesFor | None) -> T:
    from ..services import build_services
    from ..storage.migrate import SchemaNotCurrent, check_at_head

    async def run() -> T:
        services = (services_for or build_services)(settings)
        try:
            # A restored backup may be older than the code: its schema is brought up to date first.
            await check_at_head(services.db, services.plugins)
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except SchemaNotCurrent as error:
        raise CommandError(str(error)) from None
    except (SQLAlchemyError, OSError) as error:
        failure = type(getattr(error, "orig", None) or error).__name__  # a driver's text may quote the URL
        raise CommandError(f"cannot use the database ({failure}); is it reachable and migrated "
                           "(`shop-privacy db upgrade`)?") from None


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise CommandError("configuration error: " + "; ".join(settings_problems(error))) from None


def _not_run(command: str, error: Exception) -> int:
    print(f"shop-privacy rights {command}: not run: {error}", file=sys.stderr)
    return EXIT_NOT_RUN


def export_ledger(since: str | None, out: TextIO = sys.stdout, settings: Settings | None = None,
                  services_for: ServicesFor | None = None) -> int:
    """Writes the database's ledger (from `since` on) as signed JSON lines: the format `reapply` reads."""
    try:
        settings = settings or _settings()
        moment = parse_since(since) if since else None
        entries = _with_services(settings, lambda services: services.rights.ledger.since(moment), services_for)
        key = ledger_file.LedgerKey(settings.secret)
    except CommandError as error:
        return _not_run("ledger export", error)
    for entry in entries:
        out.write(ledger_file.line_of(entry, key) + "\n")
    out.flush()
    print(f"{len(entries)} erasure ledger entries written", file=sys.stderr)
    return EXIT_OK


def reapply(ledger: str | None, *, dry_run: bool = False, as_json: bool = False, out: TextIO = sys.stdout,
            settings: Settings | None = None, services_for: ServicesFor | None = None) -> int:
    """Erases again, in the database configured (a restored backup), everyone the ledger file lists."""
    try:
        settings = settings or _settings()
        path = Path(ledger) if ledger else settings.erasure_ledger_file
        if path is None:
            raise CommandError(f"name the ledger file with --ledger or {ledger_file.ENVIRONMENT_VARIABLE}")
        try:
            held = ledger_file.read(path, ledger_file.LedgerKey(settings.secret))
        except ledger_file.LedgerFileError as error:
            raise CommandError(f"ledger file: {error}") from None

        from .reapply import LedgerReapply

        async def work(services: Any) -> ReapplyReport:
            return await LedgerReapply(services.db, services.rights, services.rights.ledger).run(
                held, dry_run=dry_run)

        report = _with_services(settings, work, services_for)
    except CommandError as error:
        return _not_run("reapply", error)
    if as_json:
        out.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        _print_report(report, out)
    return EXIT_OK if report.ok else EXIT_REFUSED


def _print_report(report: ReapplyReport, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    from .reapply import EntryOutcome

    console = Console(file=out, width=100)
    table = Table(title=f"erasure ledger {report.ledger}: " + ("dry run, nothing changed" if report.dry_run
                                                                else "re-applied"))
    table.add_column("")
    table.add_column("entries", justify="right")
    table.add_row("entries read (signed with this shop's key)", str(report.read))
    table.add_row("would be erased again" if report.dry_run else "erased again", str(report.erased))
    table.add_row("already gone", str(report.count(EntryOutcome.ALREADY_GONE)))
    table.add_row("address registered again after the erasure: account kept",
                  str(report.count(EntryOutcome.NEWER_ACCOUNT_KEPT)))
    table.add_row("missing from the database's ledger" + ("" if report.dry_run else ", recorded"),
                  str(report.recorded))
    table.add_row("lines refused (bad signature, or not an entry)", str(len(report.refused)))
    console.print(table)
    for refused in report.refused:
        console.print(f"REFUSED line {refused.line}: {refused.reason}")
