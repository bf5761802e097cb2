"""the audit trail (account and permission events, append-only) and erased accounts

Revision ID: b8e3f5a2c914
Revises: d7e2a91f4b36
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base
from secgo.models.audit import APPEND_ONLY


# revision identifiers, used by Alembic.
revision = 'b8e3f5a2c914'
down_revision = 'd7e2a91f4b36'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('remote_addr', sa.String(length=45), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], name=op.f('fk_audit_events_subject_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_audit_events_organization_id_organizations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_audit_events_org_time', ['organization_id', 'created_at'], unique=False)
    # Plain ALTER TABLE (no batch copy of users: its dependents would cascade on SQLite).
    op.add_column('users', sa.Column('erased_at', secgo.models.base.UTCDateTime(timezone=True), nullable=True))
    statements = APPEND_ONLY.get(op.get_bind().dialect.name, [])
    for statement in [statements] if isinstance(statements, str) else statements:
        op.execute(statement)


def downgrade():
    op.drop_column('users', 'erased_at')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION IF EXISTS audit_events_append_only()')
    op.drop_table('audit_events')
