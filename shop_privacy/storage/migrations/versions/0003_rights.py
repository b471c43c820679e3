"""Data-subject requests (the DPO's queue), rectification history, when a session last saw the password.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:35:45.034666
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('subject_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hold_reason', sa.String(length=500), nullable=True),
    sa.Column('identity_verification', sa.String(length=500), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('registered_by', sa.Uuid(), nullable=True),
    sa.Column('download_token_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_subject_requests_queue', ['status', 'due_at'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('field', sa.String(length=80), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_customer_id'), ['customer_id'], unique=False)

    # Existing sessions last saw the password when they were created.
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authenticated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE auth_sessions SET authenticated_at = created_at")
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.alter_column('authenticated_at', existing_type=sa.DateTime(timezone=True), nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('authenticated_at')

    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_customer_id'))

    op.drop_table('rectifications')
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_subject_requests_queue')
        batch_op.drop_index(batch_op.f('ix_subject_requests_customer_id'))

    op.drop_table('subject_requests')
