"""business matching: events, matches, their steps and follow-up reminders

Revision ID: d20b8e2d4a05
Revises: c17e5f8a9b05
Create Date: 2026-11-28 14:43:34.886889

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'd20b8e2d4a05'
down_revision = 'd16a4c2e9b01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('matching_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=160), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_matching_events_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_events'))
    )
    with op.batch_alter_table('matching_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matching_events_held_on'), ['held_on'], unique=False)

    op.create_table('match_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['matching_events.id'], name=op.f('fk_match_follow_ups_event_id_matching_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_match_follow_ups_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_follow_ups')),
    sa.UniqueConstraint('event_id', 'user_id', 'months', name='uq_match_follow_ups_once')
    )
    with op.batch_alter_table('match_follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_follow_ups_user_id'), ['user_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('producer_org_id', sa.Integer(), nullable=False),
    sa.Column('products', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('stage_on', sa.Date(), nullable=False),
    sa.Column('first_order_on', sa.Date(), nullable=True),
    sa.Column('repeat_order_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_matches_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_matches_created_by_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['matching_events.id'], name=op.f('fk_matches_event_id_matching_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['producer_org_id'], ['organizations.id'], name=op.f('fk_matches_producer_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches')),
    sa.UniqueConstraint('event_id', 'buyer_org_id', 'producer_org_id', name='uq_matches_pair')
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_buyer_org_id'), ['buyer_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_matches_pair', ['producer_org_id', 'buyer_org_id'], unique=False)

    op.create_table('matching_event_organizations',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['matching_events.id'], name=op.f('fk_matching_event_organizations_event_id_matching_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_matching_event_organizations_organization_id_organizations')),
    sa.PrimaryKeyConstraint('event_id', 'organization_id', name=op.f('pk_matching_event_organizations'))
    )
    op.create_table('match_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_match_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_match_steps_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_match_steps_order_id_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_steps'))
    )
    with op.batch_alter_table('match_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_steps_match_id'), ['match_id'], unique=False)



def downgrade():
    with op.batch_alter_table('match_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_steps_match_id'))

    op.drop_table('match_steps')
    op.drop_table('matching_event_organizations')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('ix_matches_pair')
        batch_op.drop_index(batch_op.f('ix_matches_event_id'))
        batch_op.drop_index(batch_op.f('ix_matches_buyer_org_id'))

    op.drop_table('matches')
    with op.batch_alter_table('match_follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_follow_ups_user_id'))

    op.drop_table('match_follow_ups')
    with op.batch_alter_table('matching_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matching_events_held_on'))

    op.drop_table('matching_events')
