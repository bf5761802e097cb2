"""documents per order and a document checklist per border crossing

Revision ID: d16a4c2e9b01
Revises: c17e5f8a9b05
Create Date: 2026-11-28 15:00:00

"""
from alembic import op
import sqlalchemy as sa

from secgo.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd16a4c2e9b01'
down_revision = 'c17e5f8a9b05'
branch_labels = None
depends_on = None

MISSING_WHERE = "missing_documents IS NOT NULL AND status IN ('dispatched', 'at_border')"


def upgrade():
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('doc_type', sa.String(length=30), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('mime', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_by_label', sa.String(length=80), nullable=True),
        sa.Column('client_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('deleted_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_documents_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_documents_uploaded_by_id_users')),
        sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'],
                                name=op.f('fk_documents_deleted_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('uploaded_by_id', 'client_id', name='uq_documents_client'),
    )
    op.create_index('ix_documents_order_id', 'documents', ['order_id', 'id'])
    op.create_index(op.f('ix_documents_sha256'), 'documents', ['sha256'])
    op.create_table(
        'crossing_requirements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crossing', sa.String(length=40), nullable=False),
        sa.Column('product', sa.String(length=120), nullable=False),
        sa.Column('doc_type', sa.String(length=30), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crossing_requirements')),
        sa.UniqueConstraint('crossing', 'product', 'doc_type', name='uq_crossing_requirements'),
    )
    op.create_index(op.f('ix_crossing_requirements_crossing'), 'crossing_requirements',
                    ['crossing'])
    # A plain ADD COLUMN (no table copy on SQLite); NULL: nothing missing until a checklist says so.
    op.add_column('orders', sa.Column('missing_documents', sa.String(length=300), nullable=True))
    op.create_index('ix_orders_documents_missing', 'orders', ['last_activity_at'],
                    sqlite_where=sa.text(MISSING_WHERE), postgresql_where=sa.text(MISSING_WHERE))


def downgrade():
    op.drop_index('ix_orders_documents_missing', table_name='orders')
    op.drop_column('orders', 'missing_documents')
    op.drop_index(op.f('ix_crossing_requirements_crossing'), table_name='crossing_requirements')
    op.drop_table('crossing_requirements')
    op.drop_index(op.f('ix_documents_sha256'), table_name='documents')
    op.drop_index('ix_documents_order_id', table_name='documents')
    op.drop_table('documents')
