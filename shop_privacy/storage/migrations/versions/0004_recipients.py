"""Disclosures to recipients and their outbox, visitors' consents, inactivity warnings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:15:24.674250
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('disclosures',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('legal_basis', sa.String(length=32), nullable=False),
    sa.Column('categories', sa.String(length=2000), nullable=False),
    sa.Column('fields', sa.String(length=4000), nullable=False),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosures_customer_id'), ['customer_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_key', sa.String(length=64), nullable=True))
        batch_op.alter_column('customer_id',
               existing_type=sa.Uuid(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_consents_visitor_key'), ['visitor_key'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inactivity_warned_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('inactivity_warned_at')

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_visitor_key'))
        batch_op.alter_column('customer_id',
               existing_type=sa.Uuid(),
               nullable=False)
        batch_op.drop_column('visitor_key')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_customer_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosures_customer_id'))

    op.drop_table('disclosures')
