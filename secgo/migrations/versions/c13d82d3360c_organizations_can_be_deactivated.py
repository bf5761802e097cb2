"""organizations can be deactivated

Revision ID: c13d82d3360c
Revises: 5b1e9c3d7a20
Create Date: 2026-11-28 08:34:26.091607

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13d82d3360c'
down_revision = '5b1e9c3d7a20'
branch_labels = None
depends_on = None


def upgrade():
    # An ALTER TABLE ... ADD COLUMN on both engines (batch mode does not copy the table for it).
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would, with foreign keys
    # on, cascade into the tables that point at organizations.
    op.drop_column('organizations', 'active')
