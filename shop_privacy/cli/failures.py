"""An exception a command did not handle, as one line and an exit status: the operator reads the line,
cron reads the status; `--debug` adds the traceback."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ShopError
from ..privacy.inventory import InventoryError
from ..privacy.vocabulary import VocabularyConflict
from ..settings import settings_problems
from ..shop import ShopLoadError
from ..storage.migrate import SchemaNotCurrent
from .context import NOT_RUN, PROBLEM, CommandFailed


def describe(error: BaseException) -> tuple[int, str]:
    if isinstance(error, CommandFailed):
        return error.status, str(error)
    if isinstance(error, ShopError):
        # Refused: bad input or a conflict, worded for whoever made the request.
        return PROBLEM, error.message
    if isinstance(error, ShopLoadError):
        return NOT_RUN, f"--app: {error}"
    if isinstance(error, ValidationError):
        return NOT_RUN, "configuration error:\n" + "\n".join(settings_problems(error))
    if isinstance(error, InventoryError | SchemaNotCurrent | VocabularyConflict):
        # Messages of the start-up checks: tables, columns, revisions and names, never personal data.
        return NOT_RUN, str(error)
    if isinstance(error, SQLAlchemyError | OSError):
        # By type only: a driver's message may quote the database URL or the SQL it ran.
        original = getattr(error, "orig", None)
        return NOT_RUN, (f"the database could not be used ({type(original or error).__name__}); "
                         "run with --debug for the details")
    return NOT_RUN, f"unexpected {type(error).__name__}; run with --debug for the traceback"
