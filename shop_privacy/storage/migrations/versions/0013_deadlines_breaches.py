"""Request deadlines (extension, reminders to the DPO), the identity challenge of requests by e-mail,
and the breach register (append-only, like the access log).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The breach register is append-only in the database itself, exactly as the access log (0002); the hash
# chain shows it if someone with the rights to drop these triggers edits or deletes rows anyway.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER breach_register_no_update BEFORE UPDATE ON breach_register
       BEGIN SELECT RAISE(ABORT, 'breach_register is append-only'); END""",
    """CREATE TRIGGER breach_register_no_delete BEFORE DELETE ON breach_register
       BEGIN SELECT RAISE(ABORT, 'breach_register is append-only'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION breach_register_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'breach_register is append-only'; END $$""",
    """CREATE TRIGGER breach_register_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON breach_register
       FOR EACH STATEMENT EXECUTE FUNCTION breach_register_append_only()""",
]

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('extended_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('identity_challenge_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('identity_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminder_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('breach_register',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('breach_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('categories', sa.String(length=2000), nullable=False),
    sa.Column('subjects_approx', sa.Integer(), nullable=False),
    sa.Column('records_approx', sa.Integer(), nullable=False),
    sa.Column('consequences', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('imy_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('imy_not_notified_reason', sa.String(length=2000), nullable=True),
    sa.Column('subjects_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subjects_not_notified_reason', sa.String(length=2000), nullable=True),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sequence')
    )
    with op.batch_alter_table('breach_register', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_register_breach_id'), ['breach_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_register_recorded_by'), ['recorded_by'], unique=False)
    triggers = _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS breach_register_append_only ON breach_register")
        op.execute("DROP FUNCTION IF EXISTS breach_register_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS breach_register_no_update")
        op.execute("DROP TRIGGER IF EXISTS breach_register_no_delete")
    with op.batch_alter_table('breach_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_register_recorded_by'))
        batch_op.drop_index(batch_op.f('ix_breach_register_breach_id'))
    op.drop_table('breach_register')
    with op.batch_alter_table('subject_requests', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('reminder_state')
        batch_op.drop_column('identity_verified_at')
        batch_op.drop_column('identity_challenge_hash')
        batch_op.drop_column('extended_by')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extended_at')
