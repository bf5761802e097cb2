"""proof at handover: the receiver's name, a signature or the order's handover code

Revision ID: d16c5a8b2f03
Revises: c17e5f8a9b05
Create Date: 2026-11-28 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd16c5a8b2f03'
down_revision = 'd20b8e2d4a05'
branch_labels = None
depends_on = None

FK = 'fk_delivery_confirmations_signature_id_attachments'


def upgrade():
    op.add_column('orders', sa.Column('handover_code', sa.String(length=6), nullable=True))
    op.add_column('delivery_confirmations',
                  sa.Column('receiver_name', sa.String(length=80), nullable=True))
    op.add_column('delivery_confirmations', sa.Column('proof', sa.String(length=12), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # ADD COLUMN ... REFERENCES: no copy of the table (see c17e5f8a9b05).
        op.add_column('delivery_confirmations', sa.Column(
            'signature_id', sa.Integer(), sa.ForeignKey('attachments.id', name=FK), nullable=True),
            inline_references=True)
    else:
        op.add_column('delivery_confirmations',
                      sa.Column('signature_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK, 'delivery_confirmations', 'attachments', ['signature_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK, 'delivery_confirmations', type_='foreignkey')
    op.drop_column('delivery_confirmations', 'signature_id')
    op.drop_column('delivery_confirmations', 'proof')
    op.drop_column('delivery_confirmations', 'receiver_name')
    op.drop_column('orders', 'handover_code')
