"""issues: an index on (producer, last activity) for the tab bar's unread counts

Revision ID: c13e4b7d9a01
Revises: b8e3f5a2c914
Create Date: 2026-11-28 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c13e4b7d9a01'
down_revision = 'b8e3f5a2c914'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_issues_producer_updated', 'issues', ['producer_org_id', 'updated_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_issues_producer_updated', table_name='issues')
