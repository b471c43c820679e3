"""One open data-subject request per subject and kind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 13:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('received', 'on_hold')"


def upgrade() -> None:
    # Duplicates opened before this revision: all but the oldest open one of each kind are cancelled.
    op.execute(sa.text(f"""
        UPDATE subject_requests SET status = 'cancelled'
        WHERE {_OPEN} AND EXISTS (
            SELECT 1 FROM subject_requests AS older
            WHERE older.customer_id = subject_requests.customer_id AND older.kind = subject_requests.kind
              AND older.{_OPEN}
              AND (older.received_at < subject_requests.received_at
                   OR (older.received_at = subject_requests.received_at AND older.id < subject_requests.id)))
    """))
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.create_index('uq_subject_requests_open', ['customer_id', 'kind'], unique=True,
                              sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))


def downgrade() -> None:
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_subject_requests_open', sqlite_where=sa.text(_OPEN),
                            postgresql_where=sa.text(_OPEN))
