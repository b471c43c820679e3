"""Alembic, driven from code: `shop-privacy db upgrade` and the tests create the schema this way."""

from __future__ import annotations

from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from .database import Database
from .urls import DatabaseURL

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | DatabaseURL) -> Config:
    database_url = url if isinstance(url, DatabaseURL) else DatabaseURL.parse(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The URL object is passed as is: its password never goes through the ini interpolation.
    config.attributes["sync_url"] = database_url.sync_url
    return config


def upgrade(url: str | DatabaseURL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | DatabaseURL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


class SchemaNotCurrent(RuntimeError):
    pass


def current_revisions(url: str | DatabaseURL) -> tuple[set[str], set[str]]:
    """(revisions the database is at, the code's heads)."""
    config = alembic_config(url)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    engine = create_engine(config.attributes["sync_url"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


async def check_at_head(db: Database) -> None:
    """Refuse to serve on a schema the migrations did not bring up to date."""
    current, heads = await anyio.to_thread.run_sync(current_revisions, db.url)
    if current != heads:
        raise SchemaNotCurrent(
            f"the database schema is at {sorted(current) or 'nothing'}, the code needs {sorted(heads)}: "
            "run `shop-privacy db upgrade`"
        )
