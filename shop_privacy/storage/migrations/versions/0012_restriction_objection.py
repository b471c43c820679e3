"""Restrictions of processing and objections to it (GDPR Art. 18, 21).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 18:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processing_limits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('grounds', sa.String(length=1000), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('processing_limits', schema=None) as batch_op:
        batch_op.create_index('ix_processing_limits_subject_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_processing_limits_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processing_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processing_limits_request_id'))
        batch_op.drop_index('ix_processing_limits_subject_status')
    op.drop_table('processing_limits')
