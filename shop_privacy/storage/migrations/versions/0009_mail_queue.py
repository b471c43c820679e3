"""The durable queue of account mails: written with the change that causes a mail, delivered with retries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 16:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_mails',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('recipient_name', sa.String(length=400), nullable=True),
    sa.Column('subject', sa.String(length=998), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('headers', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.create_index('ix_account_mails_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_mails_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_mails_customer_id'))
        batch_op.drop_index('ix_account_mails_due')
    op.drop_table('account_mails')
