"""What every command shares: the shop named by `--app`, its settings and services, the exit statuses,
and the one way a command says it could not do its work."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from ..logs import configure_logging
from ..settings import Settings, settings_problems
from ..shop import APP_VARIABLE, Shop, load_shop

if TYPE_CHECKING:
    from ..services import Services

T = TypeVar("T")

# Exit statuses, stable for cron and monitoring (`audit` has always used them this way).
OK = 0  # done; or checked, and nothing is wrong
PROBLEM = 1  # checked, and something is wrong; or the request was refused (bad input, a conflict)
NOT_RUN = 2  # could not run: bad usage, configuration, an unreachable or unmigrated database

EXIT_STATUSES = """exit status:
  0  done (or checked, and nothing is wrong)
  1  a problem found, or the request refused (e.g. the e-mail address is taken, the password too weak)
  2  could not run: bad usage, a bad --app or configuration, the database unreachable or not migrated
Errors are one line on standard error; --debug adds the traceback."""


class CommandFailed(Exception):
    """The command could not do its work: `message` is the one line the operator sees."""

    def __init__(self, message: str, status: int = NOT_RUN) -> None:
        super().__init__(message)
        self.status = status


_APP_HELP = (f"the shop to run: a shop_privacy.Shop (or a function returning one), e.g. myshop.config:shop; "
             f"default: ${APP_VARIABLE}, else the package's defaults")
_DEBUG_HELP = "on an error, print the traceback too"
_COMMON = argparse.ArgumentParser(add_help=False)
# SUPPRESS: an option given before the command is not reset by the command's parser.
_COMMON.add_argument("--app", metavar="MODULE:ATTRIBUTE", default=argparse.SUPPRESS, help=_APP_HELP)
_COMMON.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)


def add_parser(commands: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A command's (or subcommand's) parser, taking --app and --debug wherever they are given."""
    kwargs.setdefault("description", kwargs.get("help"))
    parser: argparse.ArgumentParser = commands.add_parser(name, parents=[_COMMON], **kwargs)
    return parser


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app", metavar="MODULE:ATTRIBUTE", default=None, help=_APP_HELP)
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)


class CommandContext:
    """The shop and its settings, loaded when a command first asks for them (`schema print` never does)."""

    def __init__(self, app: str | None) -> None:
        self.app = app if app is not None else os.environ.get(APP_VARIABLE) or None
        self._shop: Shop | None = None
        self._settings: Settings | None = None

    @property
    def shop(self) -> Shop:
        if self._shop is None:
            self._shop = load_shop(self.app)
        return self._shop

    @property
    def settings(self) -> Settings:
        """The settings, or every problem with them, one line each, naming the variable and never its value."""
        if self._settings is None:
            try:
                self._settings = self.shop.resolve_settings()
            except ValidationError as error:
                raise CommandFailed("configuration error:\n" + "\n".join(settings_problems(error))) from None
            configure_logging(self._settings)
        return self._settings

    def services(self) -> Services:
        return self.shop.services(self.settings)

    def run(self, work: Callable[[Services], Awaitable[T]]) -> T:
        """`work(services)` with the shop's services, closing them afterwards."""
        services = self.services()

        async def run() -> T:
            try:
                return await work(services)
            finally:
                await services.close()

        return run_to_the_end(run())


def run_to_the_end(work: Awaitable[T]) -> T:
    """`asyncio.run`, except that the loop is closed only after the threads the work started have ended:
    after a failed connect, aiosqlite's worker thread still hands its last result to the loop, and on a
    closed loop it dies with a traceback on standard error."""
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
