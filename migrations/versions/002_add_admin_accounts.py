"""add admin accounts

Credentials for the admin UI, one row per admin profile, apart from the profiles table
(which a Supabase data API may expose). Made by `flask db migrate`, reviewed.

Revision ID: 002
Revises: 001
Create Date: 2026-11-27 11:02:49.043981

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '002'
down_revision = '001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_accounts',
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_admin_accounts_failed_logins_non_negative')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_admin_accounts_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', name=op.f('pk_admin_accounts'))
    )


def downgrade():
    op.drop_table('admin_accounts')
