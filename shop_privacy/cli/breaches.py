"""`shop-privacy breaches`: the breach register (GDPR Art. 33(5)) for the DPO at a terminal: list the
breaches with the state of their 72-hour deadline, show one with its history, record one, add an entry,
verify that nothing was edited. No command edits or deletes an entry."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import datetime
from typing import Any

from .context import OK, PROBLEM, CommandContext, CommandFailed, add_parser

_EPILOG = """exit status:
  0  done (list: no breach is past its 72 hours unreported)
  1  list: a breach is overdue; verify: the register was tampered with; or the input was refused
  2  could not run: bad usage, configuration, the database unreachable or not migrated"""


def register(commands: Any) -> None:
    breaches = add_parser(commands, "breaches", help="the breach register: list, show, record, add an entry",
                          epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = breaches.add_subparsers(dest="breaches_command", required=True, metavar="COMMAND")
    listing = add_parser(sub, "list", help="every breach and its deadline state (exit status 1 while one is overdue)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = add_parser(sub, "show", help="one breach with its history")
    show.add_argument("id", help="the breach's id")
    show.add_argument("--json", action="store_true", help="print JSON")
    record = add_parser(sub, "record", help="record a breach (name nobody: categories and counts)")
    _by(record)
    record.add_argument("--discovered-at", required=True, metavar="TIME",
                        help="when the shop became aware of it, ISO 8601 with an offset (e.g. 2026-03-28T09:30+01:00)")
    record.add_argument("--description", required=True, help="what happened")
    record.add_argument("--categories", required=True, metavar="KEYS",
                        help="categories of data concerned, comma-separated taxonomy keys (e.g. user.contact.email)")
    record.add_argument("--subjects", type=int, required=True, metavar="N", help="approximate number of people")
    record.add_argument("--records", type=int, required=True, metavar="N", help="approximate number of records")
    record.add_argument("--consequences", required=True, help="the likely consequences")
    record.add_argument("--measures", required=True, help="measures taken or proposed")
    _notifications(record)
    record.add_argument("--json", action="store_true", help="print the breach as JSON")
    entry = add_parser(sub, "add-entry", help="add an entry to a breach: what is new, and the fields that changed")
    entry.add_argument("id", help="the breach's id")
    _by(entry)
    entry.add_argument("--note", required=True, help="what this entry is about")
    entry.add_argument("--discovered-at", metavar="TIME", help="a corrected time of discovery")
    entry.add_argument("--description", help="what happened, as now known")
    entry.add_argument("--categories", metavar="KEYS", help="the categories concerned, as now known (all of them)")
    entry.add_argument("--subjects", type=int, metavar="N", help="approximate number of people, as now known")
    entry.add_argument("--records", type=int, metavar="N", help="approximate number of records, as now known")
    entry.add_argument("--consequences", help="the likely consequences, as now known")
    entry.add_argument("--measures", help="measures taken or proposed, as now known")
    _notifications(entry)
    entry.add_argument("--json", action="store_true", help="print the breach as JSON")
    add_parser(sub, "verify", help="check the register's hash chain and append-only triggers (exit status 1 if not)")
    breaches.set_defaults(handler=breaches_command)


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", required=True, metavar="EMAIL", help="the DPO's staff e-mail address")


def _notifications(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--imy-notified-at", metavar="TIME", help="when the supervisory authority was notified")
    parser.add_argument("--imy-not-notified-reason", metavar="TEXT", help="why the authority is not notified")
    parser.add_argument("--subjects-notified-at", metavar="TIME", help="when the people affected were told")
    parser.add_argument("--subjects-not-notified-reason", metavar="TEXT", help="why they are not told")


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise CommandFailed(f"{option}: not an ISO 8601 time", PROBLEM) from None


def _categories(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(c.strip() for c in value.split(",") if c.strip())


def _breach_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandFailed("not a breach id", PROBLEM) from None


def breaches_command(args: argparse.Namespace, context: CommandContext) -> int:
    from ..breaches.register import BreachChanges, BreachFacts, DeadlineState
    from ..privacy.purposes import StaffRole
    from ..storage.types import utc_now

    command = args.breaches_command
    notified = {"imy_notified_at": _time(getattr(args, "imy_notified_at", None), "--imy-notified-at"),
                "imy_not_notified_reason": getattr(args, "imy_not_notified_reason", None),
                "subjects_notified_at": _time(getattr(args, "subjects_notified_at", None), "--subjects-notified-at"),
                "subjects_not_notified_reason": getattr(args, "subjects_not_notified_reason", None)}

    async def dpo(services: Any) -> uuid.UUID:
        staff = await services.staff.by_email(args.by)
        if staff is None or not staff.active or staff.role != StaffRole.DPO.value:
            raise CommandFailed("--by: no active data protection officer has this e-mail address", PROBLEM)
        return staff.id  # type: ignore[no-any-return]

    async def work(services: Any) -> Any:
        register = services.breaches
        if command == "list":
            return await register.all()
        if command == "show":
            return await register.get(_breach_id(args.id))
        if command == "verify":
            return await register.verify()
        if command == "record":
            return await register.record(await dpo(services), BreachFacts(
                discovered_at=_time(args.discovered_at, "--discovered-at"), description=args.description,
                categories=_categories(args.categories) or (), subjects_approx=args.subjects,
                records_approx=args.records, consequences=args.consequences, measures=args.measures, **notified))
        return await register.add_entry(await dpo(services), _breach_id(args.id), BreachChanges(
            note=args.note, discovered_at=_time(args.discovered_at, "--discovered-at"), description=args.description,
            categories=_categories(args.categories), subjects_approx=args.subjects, records_approx=args.records,
            consequences=args.consequences, measures=args.measures, **notified))

    result = context.run(work)
    now = utc_now()
    out = sys.stdout
    if command == "verify":
        for problem in result.problems:
            out.write(f"PROBLEM: {problem}\n")
        out.write(f"breach register: {result.rows} entries, {'intact' if result.ok else 'NOT intact'}\n")
        return OK if result.ok else PROBLEM
    if command == "list":
        if args.json:
            out.write(json.dumps([b.as_json(now) for b in result], indent=2, ensure_ascii=False) + "\n")
        else:
            for breach in result:
                out.write(_line(breach, now) + "\n")
            out.write(f"{len(result)} breach(es) in the register\n")
        return PROBLEM if any(b.deadline_state(now) is DeadlineState.OVERDUE for b in result) else OK
    if result is None:
        raise CommandFailed("no such breach", PROBLEM)
    if args.json:
        out.write(json.dumps(result.as_json(now, with_entries=True), indent=2, ensure_ascii=False) + "\n")
        return OK
    out.write(_details(result, now))
    return OK


def _line(breach: Any, now: datetime) -> str:
    state = breach.deadline_state(now).value.upper()
    hours = breach.hours_left(now)
    left = "" if hours is None else (f", {hours:g} h left" if hours >= 0 else f", {-hours:g} h late")
    return (f"{breach.id}  discovered {breach.facts.discovered_at:%Y-%m-%d %H:%M}Z  IMY by "
            f"{breach.imy_deadline:%Y-%m-%d %H:%M}Z  {state}{left}  ~{breach.facts.subjects_approx} people, "
            f"{', '.join(breach.facts.categories)}")


def _details(breach: Any, now: datetime) -> str:
    data = breach.as_json(now, with_entries=True)
    history = data.pop("history")
    lines = [_line(breach, now)]
    lines += [f"  {key}: {value}" for key, value in data.items() if key != "id"]
    lines += ["  history:"] + [f"    #{e['sequence']} {e['recordedAt']} by {e['recordedBy']}: {e['note']}"
                               for e in history]
    return "\n".join(lines) + "\n"
