"""orders: a data version of each order, organizations: a version of their issues list, for
the kept order page and issues list (secgo/pagecache.py)

Revision ID: e4c2a7d91b06
Revises: b7d4e2c19f30
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e4c2a7d91b06'
down_revision = 'b7d4e2c19f30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('issues_version')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('data_version')
