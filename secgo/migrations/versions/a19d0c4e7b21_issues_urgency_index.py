"""issues: the dashboard's most urgent open issues read from an index in urgency order

Revision ID: a19d0c4e7b21
Revises: f19a5aef0c01
Create Date: 2026-11-28 23:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a19d0c4e7b21'
down_revision = 'f19a5aef0c01'
branch_labels = None
depends_on = None

# As secgo.models.issue.urgency_order writes it (values in the SQL, so the planner matches it).
RANK = ("(CASE WHEN (severity = 'high') THEN 3 WHEN (severity = 'medium') THEN 2 "
        "WHEN (severity = 'low') THEN 1 ELSE 0 END) DESC")
OPEN = "state IN ('open', 'acknowledged', 'reopened')"


def upgrade():
    op.create_index('ix_issues_urgency', 'issues', [
        sa.text(RANK), sa.text('(first_response_at IS NULL) DESC'),
        sa.text('coalesce(first_response_at, created_at) ASC'), sa.text('id ASC'),
    ], postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('ix_issues_urgency', table_name='issues')
