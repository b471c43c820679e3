"""Retention rules: consent records outlive the account as proof (no foreign key to customers any more),
stamped with when the account was closed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The foreign key as migration 0002 created it, unnamed: SQLite's batch mode finds it by this name,
# PostgreSQL named it by its convention.
_FOREIGN_KEY = 'consents_customer_id_fkey'


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None,
                              naming_convention={"fk": "%(table_name)s_%(column_0_name)s_fkey"}) as batch_op:
        batch_op.add_column(sa.Column('account_closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_consents_account_closed_at'), ['account_closed_at'], unique=False)
        batch_op.drop_constraint(_FOREIGN_KEY, type_='foreignkey')


def downgrade() -> None:
    # Proof kept for closed accounts has no customer row to point at: it goes with the downgrade.
    op.execute("DELETE FROM consents WHERE account_closed_at IS NOT NULL")
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_foreign_key(_FOREIGN_KEY, 'customers', ['customer_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index(batch_op.f('ix_consents_account_closed_at'))
        batch_op.drop_column('account_closed_at')
