"""read marks: when each person last opened an order or an issue (unread marks)

Revision ID: a4f1c2d9e8b7
Revises: c13d82d3360c
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'a4f1c2d9e8b7'
down_revision = 'c13d82d3360c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('read_marks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seen_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('order', 'issue')", name=op.f('ck_read_marks_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_read_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', 'target_id', name=op.f('pk_read_marks'))
    )


def downgrade():
    op.drop_table('read_marks')
