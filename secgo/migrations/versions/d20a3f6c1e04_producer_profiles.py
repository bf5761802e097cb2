"""producer profiles, their products, certifications and photos; enquiries

Revision ID: d20a3f6c1e04
Revises: c17e5f8a9b05
Create Date: 2026-11-28 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd20a3f6c1e04'
down_revision = 'd16c5a8b2f03'
branch_labels = None
depends_on = None


def _when(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        'producer_profiles',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('description_en', sa.Text(), nullable=False),
        sa.Column('contact_name', sa.String(length=80), nullable=False),
        sa.Column('contact_phone', sa.String(length=20), nullable=False),
        sa.Column('contact_languages', sa.String(length=40), nullable=False),
        sa.Column('export_markets', sa.String(length=60), nullable=False),
        sa.Column('capacity_private', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('show_track_record', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        _when('updated_at'),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'],
                                name=op.f('fk_producer_profiles_org_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_producer_profiles_updated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_producer_profiles')),
    )
    op.create_table(
        'profile_products',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('monthly_capacity', sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column('season_from', sa.Integer(), nullable=True),
        sa.Column('season_to', sa.Integer(), nullable=True),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.CheckConstraint('monthly_capacity IS NULL OR monthly_capacity >= 0',
                           name=op.f('ck_profile_products_capacity')),
        sa.ForeignKeyConstraint(['org_id'], ['producer_profiles.org_id'],
                                name=op.f('fk_profile_products_org_id_producer_profiles'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_products')),
    )
    op.create_index('ix_profile_products_org', 'profile_products', ['org_id', 'position'])
    op.create_table(
        'profile_certifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['document_id'], ['attachments.id'],
                                name=op.f('fk_profile_certifications_document_id_attachments')),
        sa.ForeignKeyConstraint(['org_id'], ['producer_profiles.org_id'],
                                name=op.f('fk_profile_certifications_org_id_producer_profiles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_certifications')),
    )
    op.create_index('ix_profile_certifications_kind', 'profile_certifications', ['kind', 'expires_on'])
    op.create_index(op.f('ix_profile_certifications_org_id'), 'profile_certifications', ['org_id'])
    op.create_table(
        'profile_photos',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'],
                                name=op.f('fk_profile_photos_attachment_id_attachments')),
        sa.ForeignKeyConstraint(['org_id'], ['producer_profiles.org_id'],
                                name=op.f('fk_profile_photos_org_id_producer_profiles'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id', 'attachment_id', name=op.f('pk_profile_photos')),
    )
    op.create_table(
        'enquiries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('producer_org_id', sa.Integer(), nullable=False),
        sa.Column('customer_org_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('product', sa.String(length=120), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column('unit', sa.String(length=20), nullable=False),
        _when('created_at'),
        _when('updated_at'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_enquiries_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_org_id'], ['organizations.id'],
                                name=op.f('fk_enquiries_customer_org_id_organizations')),
        sa.ForeignKeyConstraint(['producer_org_id'], ['organizations.id'],
                                name=op.f('fk_enquiries_producer_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiries')),
    )
    op.create_index('ix_enquiries_customer_updated', 'enquiries', ['customer_org_id', 'updated_at'])
    op.create_index('ix_enquiries_producer_updated', 'enquiries', ['producer_org_id', 'updated_at'])
    op.create_table(
        'enquiry_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enquiry_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_enquiry_messages_author_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'],
                                name=op.f('fk_enquiry_messages_enquiry_id_enquiries'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_messages')),
    )
    op.create_index(op.f('ix_enquiry_messages_enquiry_id'), 'enquiry_messages', ['enquiry_id'])


def downgrade():
    op.drop_index(op.f('ix_enquiry_messages_enquiry_id'), table_name='enquiry_messages')
    op.drop_table('enquiry_messages')
    op.drop_index('ix_enquiries_producer_updated', table_name='enquiries')
    op.drop_index('ix_enquiries_customer_updated', table_name='enquiries')
    op.drop_table('enquiries')
    op.drop_table('profile_photos')
    op.drop_index(op.f('ix_profile_certifications_org_id'), table_name='profile_certifications')
    op.drop_index('ix_profile_certifications_kind', table_name='profile_certifications')
    op.drop_table('profile_certifications')
    op.drop_index('ix_profile_products_org', table_name='profile_products')
    op.drop_table('profile_products')
    op.drop_table('producer_profiles')
