"""orders: a trigram full-text index of the search text on SQLite (FTS5, kept by triggers)

Revision ID: c13f7d2e5b02
Revises: c13e4b7d9a01
Create Date: 2026-11-28 12:10:00.000000

"""
from alembic import op

from secgo.models.order import ORDERS_SEARCH, SQLITE_SEARCH_DDL


# revision identifiers, used by Alembic.
revision = 'c13f7d2e5b02'
down_revision = 'c13e4b7d9a01'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL searches through ix_orders_search_trgm
    for statement in SQLITE_SEARCH_DDL:
        op.execute(statement)
    op.execute(f"INSERT INTO {ORDERS_SEARCH} ({ORDERS_SEARCH}) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for suffix in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {ORDERS_SEARCH}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {ORDERS_SEARCH}")
