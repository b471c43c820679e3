"""E-mail addresses are stored normalised (lower-cased): the database refuses any other spelling, so
an upper-case copy of an address can never become a second account, whoever writes the row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 15:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("customers", "pending_registrations")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        op.execute(f"UPDATE {table} SET email = lower(email) WHERE email <> lower(email)")
        if postgres:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_email_normalised CHECK (email = lower(email))")
            continue
        # SQLite cannot add a CHECK to a table in place; triggers refuse the same rows.
        for when in ("INSERT", "UPDATE OF email"):
            name = f"{table}_email_normalised_{when.split()[0].lower()}"
            op.execute(f"""CREATE TRIGGER {name} BEFORE {when} ON {table}
                WHEN NEW.email <> lower(NEW.email)
                BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: email is not normalised'); END""")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgres:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_email_normalised")
            continue
        for when in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_email_normalised_{when}")
