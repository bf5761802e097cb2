"""promptness and border times per month (precomputed by the push worker), route times

Revision ID: c15b9a4e2d02
Revises: c15a7e3d1f01
Create Date: 2026-11-28 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'c15b9a4e2d02'
down_revision = 'c15a7e3d1f01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('promptness_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('dim', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('updates', sa.Integer(), nullable=False),
    sa.Column('delay_median', sa.Float(), nullable=True),
    sa.Column('delay_p90', sa.Float(), nullable=True),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('confirm_median', sa.Float(), nullable=True),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('with_dispatched', sa.Integer(), nullable=False),
    sa.Column('with_crossing', sa.Integer(), nullable=False),
    sa.Column('with_at_border', sa.Integer(), nullable=False),
    sa.Column('with_customs', sa.Integer(), nullable=False),
    sa.Column('with_delivered', sa.Integer(), nullable=False),
    sa.Column('with_due', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('shipments', sa.Integer(), nullable=False),
    sa.Column('border_median', sa.Float(), nullable=True),
    sa.Column('border_p90', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promptness_rollups')),
    sa.UniqueConstraint('scope', 'month', 'dim', 'key', name='uq_promptness_rollups_group')
    )
    op.create_table('route_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('producer_country', sa.String(length=2), nullable=False),
    sa.Column('producer_province', sa.String(length=80), nullable=False),
    sa.Column('customer_org_id', sa.Integer(), nullable=False),
    sa.Column('crossing', sa.String(length=40), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('low_days', sa.Integer(), nullable=False),
    sa.Column('high_days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_times')),
    sa.UniqueConstraint('producer_country', 'producer_province', 'customer_org_id', 'crossing',
                        name='uq_route_times_route')
    )
    op.create_table('rollup_state',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('watermark', secgo.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', secgo.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('refreshed_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rollup_state'))
    )


def downgrade():
    op.drop_table('rollup_state')
    op.drop_table('route_times')
    op.drop_table('promptness_rollups')
