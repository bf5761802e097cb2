"""sign-ins on the server (user_sessions) replace the password epoch

Revision ID: 5b1e9c3d7a20
Revises: e7975c5ae6f4
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = '5b1e9c3d7a20'
down_revision = 'e7975c5ae6f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', secgo.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Every sign-in made before this (named by user id and epoch) ends: people log in again.
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy of the table: with
    # foreign keys on, dropping the old users table would cascade into its dependents.
    op.drop_column('users', 'session_epoch')


def downgrade():
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
