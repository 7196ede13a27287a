"""add admin sessions

One row per login to the admin, so that logout, a new password and the idle and absolute
timeouts end a session on the server, not only in the browser. Only a digest of each session
id is stored. A new table, created with its index in one transaction (as 003). The only lock
on a table in use is the foreign key's SHARE ROW EXCLUSIVE on admin_accounts until this short
transaction commits: a login that writes there waits those milliseconds, and the migration
itself waits at most MIGRATION_LOCK_TIMEOUT for a login's open transaction.
Made by `flask db migrate`, reviewed: the index left autogenerate's batch block, which a new
table does not need.

Revision ID: 005
Revises: 004
Create Date: 2026-11-27 20:55:26.614205

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '005'
down_revision = '004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_sessions',
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['admin_accounts.profile_id'], name=op.f('fk_admin_sessions_profile_id_admin_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_admin_sessions'))
    )
    # Serves the foreign key's cascade and "end every session of this account".
    op.create_index(op.f('ix_admin_sessions_profile_id'), 'admin_sessions', ['profile_id'])


def downgrade():
    op.drop_index(op.f('ix_admin_sessions_profile_id'), table_name='admin_sessions')
    op.drop_table('admin_sessions')
