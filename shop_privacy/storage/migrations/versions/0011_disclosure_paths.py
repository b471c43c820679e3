"""Disclosures: what kind each is (data, or a notice to unsubscribe, erase or correct), and the DPO's
confidentiality of a disclosure required by law (P20).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        # Every disclosure logged before this revision gave data away.
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='disclose'))
        batch_op.add_column(sa.Column('confidential_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confidential_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('confidential_marked_by', sa.Uuid(), nullable=True))
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_column('confidential_marked_by')
        batch_op.drop_column('confidential_reason')
        batch_op.drop_column('confidential_until')
        batch_op.drop_column('kind')
