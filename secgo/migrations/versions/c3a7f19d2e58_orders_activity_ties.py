"""orders: the newest-activity indexes end with the id, which breaks ties in the lists' order

Revision ID: c3a7f19d2e58
Revises: a19d0c4e7b21
Create Date: 2026-11-29 01:50:00

"""
from alembic import op


revision = 'c3a7f19d2e58'
down_revision = 'a19d0c4e7b21'
branch_labels = None
depends_on = None

INDEXES = {  # name: leading columns, before last_activity_at
    'ix_orders_last_activity_at': [],
    'ix_orders_producer_activity': ['producer_org_id'],
    'ix_orders_customer_activity': ['customer_org_id'],
}


def _recreate(with_id):
    for name, lead in INDEXES.items():
        op.drop_index(name, table_name='orders')
        op.create_index(name, 'orders', [*lead, 'last_activity_at', *(['id'] if with_id else [])])


def upgrade():
    _recreate(with_id=True)


def downgrade():
    _recreate(with_id=False)
