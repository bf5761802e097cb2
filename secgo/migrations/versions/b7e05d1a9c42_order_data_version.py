"""orders: a data version of each order, for the kept order page (secgo/pagecache.py)

Revision ID: b7e05d1a9c42
Revises: a19d0c4e7b21
Create Date: 2026-11-29 01:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e05d1a9c42'
down_revision = 'a19d0c4e7b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('data_version')
