"""Fields that carry their privacy declaration in the column's `info`, beside the column itself."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field

from ..privacy.declarations import NOT_PERSONAL, Declaration, ParentLink, PersonalData, SubjectLink
from ..privacy.retention import Sweep

PRIVACY_INFO_KEY = "privacy"
APPEND_ONLY = "append_only"  # table info: rows are never updated or deleted by the application
# Table info: `(table, now) -> condition` selecting rows the data subject is not shown yet (e.g. a
# disclosure an authority asked to keep secret, P20); the export leaves them out.
WITHHELD_FROM_SUBJECT = "withheld_from_subject"
SWEEPS = "retention_sweeps"  # table info: the retention rules the sweep applies to the table's rows
# Table info: a column the erasure stamps with its time on the rows it keeps, so that a rule can count
# its period from the end of the account (e.g. the proof of consent).
ERASED_AT = "erased_at_column"


def _declared(declaration: Declaration, sa_column_kwargs: dict[str, Any] | None, **kwargs: Any) -> Any:
    column_kwargs = dict(sa_column_kwargs or {})
    column_kwargs["info"] = {**column_kwargs.get("info", {}), PRIVACY_INFO_KEY: declaration}
    return Field(sa_column_kwargs=column_kwargs, **kwargs)


def personal_field(declaration: PersonalData, *, sa_column_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return _declared(declaration, sa_column_kwargs, **kwargs)


def plain_field(*, sa_column_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A column that holds no personal data."""
    return _declared(NOT_PERSONAL, sa_column_kwargs, **kwargs)


def subject_field(*, subject: str = "customer", is_key: bool = False,
                  sa_column_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The column that ties a row to its data subject (`is_key`: it is the subject's own id)."""
    return _declared(SubjectLink(subject, is_key), sa_column_kwargs, **kwargs)


def parent_field(table: str, *, sa_column_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A reference to a row of `table` that belongs to a data subject; this row is theirs too."""
    return _declared(ParentLink(table), sa_column_kwargs, **kwargs)


def not_personal_table() -> dict[str, Any]:
    """`__table_args__` entry for a table none of whose columns hold personal data."""
    return {"info": {PRIVACY_INFO_KEY: NOT_PERSONAL}}


def swept(*sweeps: Sweep, **info: Any) -> dict[str, Any]:
    """`__table_args__` entry: the sweep applies these rules to the table's rows (see
    `shop_privacy.privacy.retention.sweep`); `info` adds other table info (e.g. `ERASED_AT`)."""
    return {"info": {SWEEPS: sweeps, **info}}
