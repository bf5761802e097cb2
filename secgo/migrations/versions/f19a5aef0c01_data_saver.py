"""data saver: photo previews (the full photo follows), a person's data saver setting

Revision ID: f19a5aef0c01
Revises: e20c0ffee020
Create Date: 2026-11-28 22:00:00

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'f19a5aef0c01'
down_revision = 'e20c0ffee020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('photo_key', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('wanted_at', secgo.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_attachments_photo_key', ['uploaded_by_id', 'photo_key'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_saver', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('data_saver')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_attachments_photo_key', type_='unique')
        batch_op.drop_column('wanted_at')
        batch_op.drop_column('photo_key')
        batch_op.drop_column('preview')
