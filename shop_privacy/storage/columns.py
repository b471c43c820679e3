"""Fields that carry their privacy declaration in the column's `info`, beside the column itself."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field

from ..privacy.declarations import NOT_PERSONAL, Declaration, ParentLink, PersonalData, SubjectLink

PRIVACY_INFO_KEY = "privacy"
APPEND_ONLY = "append_only"  # table info: rows are never updated or deleted by the application


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
