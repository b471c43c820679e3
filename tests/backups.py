"""Backups and restores of the test database, the way an operator takes them: SQLite's online backup
API, or PostgreSQL's `CREATE DATABASE … TEMPLATE …`, into scratch databases named after the test's."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from shop_privacy.storage.urls import DatabaseURL


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@contextmanager
def _postgres_admin(url: str) -> Iterator[tuple[URL, object]]:
    database = DatabaseURL.parse(url).sync_url
    engine = create_engine(database.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield database, connection
    finally:
        engine.dispose()


class Backups:
    """Copies of one database. Every engine on the source must be disposed before a PostgreSQL copy
    (a template database takes no other connections while it is copied)."""

    def __init__(self, database_url: str, directory: Path) -> None:
        self.database_url = database_url
        self._directory = directory
        self._made: list[str] = []

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith("postgres")

    def copy(self, source_url: str, label: str) -> str:
        """A consistent copy of `source_url`; returns the copy's URL."""
        if not self.postgres:
            target = self._directory / f"{label}-{uuid.uuid4().hex[:6]}.db"
            source, copy = sqlite3.connect(_sqlite_path(source_url)), sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                source.close()
                copy.close()
            return f"sqlite:///{target}"
        with _postgres_admin(source_url) as (database, admin):
            name = f"{DatabaseURL.parse(self.database_url).sync_url.database}_{label}"
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # type: ignore[attr-defined]
            admin.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database.database}"'))  # type: ignore[attr-defined]
        self._made.append(name)
        return DatabaseURL.parse(source_url).url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self._made:
            return
        with _postgres_admin(self.database_url) as (_, admin):
            for name in self._made:
                admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # type: ignore[attr-defined]
