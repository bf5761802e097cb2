"""voice notes on updates, deliveries, issues and comments

Revision ID: c17e5f8a9b05
Revises: c18c2b5f3e03
Create Date: 2026-11-28 12:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c17e5f8a9b05'
down_revision = 'c18c2b5f3e03'
branch_labels = None
depends_on = None

TABLES = ('status_updates', 'delivery_confirmations', 'issues', 'issue_comments')


def upgrade():
    op.add_column('attachments', sa.Column('duration_ms', sa.Integer(), nullable=True))
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        name = f'fk_{table}_voice_id_attachments'
        if sqlite:
            # ALTER TABLE ... ADD COLUMN ... REFERENCES: no copy of the table (which, with
            # foreign keys on, would cascade into the tables pointing at it).
            op.add_column(table, sa.Column('voice_id', sa.Integer(),
                                           sa.ForeignKey('attachments.id', name=name),
                                           nullable=True), inline_references=True)
        else:
            op.add_column(table, sa.Column('voice_id', sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, 'attachments', ['voice_id'], ['id'])


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        if not sqlite:
            op.drop_constraint(f'fk_{table}_voice_id_attachments', table, type_='foreignkey')
        op.drop_column(table, 'voice_id')
    op.drop_column('attachments', 'duration_ms')
