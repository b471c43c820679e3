"""`shop-privacy staff`: the shop's staff accounts, for the operator (who may see the staff's e-mail)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..privacy.purposes import StaffRole
from .context import OK, PROBLEM, CommandContext, CommandFailed, add_parser


def register(commands: Any) -> None:
    staff = add_parser(commands, "staff", help="staff users: create, list, disable, reset a password")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="COMMAND")
    create = add_parser(staff_commands, "create", help="create a staff user (asks for the password)")
    create.add_argument("--email", required=True, help="the staff member's e-mail address (their login)")
    create.add_argument("--name", required=True, help="the name shown to other staff")
    create.add_argument("--role", required=True, choices=[r.value for r in StaffRole],
                        help="what the staff member may do (each role may use some purposes)")
    _password_option(create)
    add_parser(staff_commands, "list", help="every staff user: id, e-mail, role, active")
    disable = add_parser(staff_commands, "disable", help="disable a staff user; their sessions end at once")
    disable.add_argument("--email", required=True, help="the staff user's e-mail address")
    reset = add_parser(staff_commands, "reset-password",
                       help="set a new password for a staff user; their sessions end at once")
    reset.add_argument("--email", required=True, help="the staff user's e-mail address")
    _password_option(reset)
    staff.set_defaults(handler=staff_command)


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input (no terminal needed)")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandFailed("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CommandFailed("no terminal to ask for the password: give it on standard input with --password-stdin")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise CommandFailed("the passwords differ", PROBLEM)
    return password


def staff_command(args: argparse.Namespace, context: CommandContext) -> int:
    password = _password(args) if args.staff_command in ("create", "reset-password") else None

    async def work(services: Any) -> int:
        accounts = services.staff
        if args.staff_command == "create":
            staff = await accounts.create({"email": args.email, "display_name": args.name, "role": args.role,
                                           "password": password})
            print(f"Staff user {staff.id} created with role {staff.role}.")
            return OK
        if args.staff_command == "list":
            users = await accounts.all()
            for user in users:
                print(f"{user.id}  {user.email:<40} {user.role:<11} {'active' if user.active else 'disabled'}")
            print(f"{len(users)} staff users")
            return OK
        user = await accounts.by_email(args.email)
        if user is None:
            raise CommandFailed("no staff user has that e-mail address", PROBLEM)
        if args.staff_command == "disable":
            await accounts.deactivate(user.id)
            print(f"Staff user {user.id} disabled; their sessions are ended.")
        else:
            assert password is not None
            await accounts.reset_password(user.id, password)
            print(f"Staff user {user.id} has a new password; their sessions are ended.")
        return OK

    return context.run(work)
