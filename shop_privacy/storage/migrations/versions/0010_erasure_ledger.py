"""The erasure ledger: one row per completed erasure, to erase the subject again in a restored backup.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erasure_ledger',
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_ledger_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_ledger_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_ledger_erased_at'), ['erased_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_ledger_erased_at'))
        batch_op.drop_index(batch_op.f('ix_erasure_ledger_email_hash'))
        batch_op.drop_index(batch_op.f('ix_erasure_ledger_customer_id'))
    op.drop_table('erasure_ledger')
