"""cluster profiles; unread marks for enquiries

Revision ID: e20c0ffee020
Revises: d20a3f6c1e04
Create Date: 2026-11-28 18:30:00

"""
from alembic import op
import sqlalchemy as sa

import secgo.models.base


# revision identifiers, used by Alembic.
revision = 'e20c0ffee020'
down_revision = 'd20a3f6c1e04'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cluster_profiles',
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('description_en', sa.Text(), nullable=False),
        sa.Column('contact_name', sa.String(length=80), nullable=False),
        sa.Column('contact_phone', sa.String(length=20), nullable=False),
        sa.Column('contact_languages', sa.String(length=40), nullable=False),
        sa.Column('export_markets', sa.String(length=60), nullable=False),
        sa.Column('updated_at', secgo.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'],
                                name=op.f('fk_cluster_profiles_cluster_id_clusters'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_cluster_profiles_updated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('cluster_id', name=op.f('pk_cluster_profiles')),
    )
    with op.batch_alter_table('read_marks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_read_marks_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_read_marks_kind'), "kind IN ('order', 'issue', 'enquiry')")


def downgrade():
    op.execute("DELETE FROM read_marks WHERE kind = 'enquiry'")
    with op.batch_alter_table('read_marks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_read_marks_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_read_marks_kind'), "kind IN ('order', 'issue')")
    op.drop_table('cluster_profiles')
