"""issues: the border crossing of the issue's order, copied onto the issue; on PostgreSQL the
dashboard's period figures read from ix_issues_producer_created alone

Revision ID: b7d4e2c19f30
Revises: c3a7f19d2e58
Create Date: 2026-11-29 01:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d4e2c19f30'
down_revision = 'c3a7f19d2e58'
branch_labels = None
depends_on = None


INCLUDE = ['category', 'border_crossing', 'first_response_at', 'resolved_at']


def _producer_created(include):
    op.drop_index('ix_issues_producer_created', table_name='issues')
    op.create_index('ix_issues_producer_created', 'issues', ['producer_org_id', 'created_at'],
                    postgresql_include=include or [])


def upgrade():
    # An ALTER TABLE ... ADD COLUMN on both engines (batch mode does not copy the table for it).
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('border_crossing', sa.String(length=40), nullable=True))
    # An order's crossing is set when it is made and never changes: copy it once; new issues
    # copy it at insert (secgo.models.issue). Only the issues of orders that have one.
    op.execute(
        "UPDATE issues SET border_crossing = "
        "(SELECT orders.border_crossing FROM orders WHERE orders.id = issues.order_id) "
        "WHERE order_id IN (SELECT id FROM orders WHERE border_crossing IS NOT NULL)"
    )
    if op.get_bind().dialect.name == 'postgresql':
        _producer_created(include=INCLUDE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _producer_created(include=None)
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would, with foreign keys
    # on, cascade into the tables that point at issues.
    op.drop_column('issues', 'border_crossing')
