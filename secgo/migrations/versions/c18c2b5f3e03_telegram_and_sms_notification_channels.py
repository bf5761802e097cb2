"""notification channels beside push: a Telegram chat or an SMS number per person, and what each carried

Revision ID: c18c2b5f3e03
Revises: c15b9a4e2d02
Create Date: 2026-11-28 11:36:44.168254

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'c18c2b5f3e03'
down_revision = 'c15b9a4e2d02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=40), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', secgo.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending', sa.String(length=40), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('secret_expires_at', secgo.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_channel_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_links')),
    sa.UniqueConstraint('user_id', 'channel', name='uq_channel_links_user_channel')
    )
    with op.batch_alter_table('channel_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_links_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_links_secret_hash'), ['secret_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_links_user_id'), ['user_id'], unique=False)

    op.create_table('channel_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_channel_deliveries_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_deliveries')),
    sa.UniqueConstraint('notification_id', 'channel', name='uq_channel_deliveries_channel')
    )
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_deliveries_notification_id'), ['notification_id'], unique=False)



def downgrade():
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_deliveries_notification_id'))

    op.drop_table('channel_deliveries')
    with op.batch_alter_table('channel_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_channel_links_secret_hash'))
        batch_op.drop_index(batch_op.f('ix_channel_links_address'))

    op.drop_table('channel_links')
