"""Alembic environment: runs migrations on the sync form of the configured database URL."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from shop_privacy.storage import tables  # noqa: F401  (registers every table)
from shop_privacy.storage.types import UTCDateTime
from shop_privacy.storage.urls import DatabaseURL

config = context.config
# A plugin's migrations run here too (see `storage/migrate.py`), with the plugin's own metadata and
# version table; the package's are the default.
target_metadata = config.attributes.get("target_metadata") or SQLModel.metadata
version_table = config.attributes.get("version_table", "alembic_version")


def _only_target_tables(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate compares only the tables of the metadata it migrates: a plugin's migration must never
    drop the package's tables (or another plugin's) because its metadata does not list them."""
    if type_ == "table":
        return name in target_metadata.tables
    return True


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write plain SQLAlchemy types into migrations, so they never import the application."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _drop_table_info(context: Any, revision: Any, directives: list[Any]) -> None:
    """Table `info` carries privacy declarations for the application; it has no place in a migration."""
    from alembic.operations import ops

    for directive in directives:
        for upgrade_ops in getattr(directive, "upgrade_ops_list", []):
            for op in upgrade_ops.ops:
                if isinstance(op, ops.CreateTableOp):
                    op.kw.pop("info", None)


def _sync_url() -> Any:
    url = config.attributes.get("sync_url") or config.get_main_option("sqlalchemy.url")
    return DatabaseURL.parse(str(url)).sync_url if isinstance(url, str) else url


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_sync_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


# Two app instances starting at once must not both migrate: PostgreSQL serialises them on this lock.
_MIGRATION_LOCK_ID = 0x5350_4D49  # "SPMI"


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        process_revision_directives=_drop_table_info,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=version_table,
        include_name=_only_target_tables,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            context.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
        context.run_migrations()


run_migrations()
