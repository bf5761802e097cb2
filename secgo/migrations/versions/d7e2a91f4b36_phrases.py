"""quick phrases and composed titles as codes with parameters; an issue on a status update

Revision ID: d7e2a91f4b36
Revises: a4f1c2d9e8b7
Create Date: 2026-11-28 10:30:00

Existing rows keep their text (no phrases, no composed title): they show as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e2a91f4b36'
down_revision = 'a4f1c2d9e8b7'
branch_labels = None
depends_on = None

PHRASE_TABLES = ('status_updates', 'delivery_confirmations', 'issues', 'issue_comments')


def upgrade():
    # ALTER TABLE ... ADD COLUMN on both engines (batch mode does not copy a table for it).
    for table in PHRASE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('phrases', sa.JSON(), nullable=True))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_phrase', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its foreign key in place (no table copy, which would
        # cascade into the tables that point at issues).
        op.execute('ALTER TABLE issues ADD COLUMN update_id INTEGER '
                   'CONSTRAINT fk_issues_update_id_status_updates REFERENCES status_updates (id)')
    else:
        op.add_column('issues', sa.Column('update_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_issues_update_id_status_updates', 'issues', 'status_updates',
                              ['update_id'], ['id'])


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of issues would, with foreign keys on,
    # cascade into the tables that point at it.
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_issues_update_id_status_updates', 'issues', type_='foreignkey')
    op.drop_column('issues', 'update_id')
    op.drop_column('issues', 'title_phrase')
    for table in PHRASE_TABLES:
        op.drop_column(table, 'phrases')
