"""add job chunks

The units of work a crawl job is split into for distributed workers. A new table, so nothing
here can block writers to existing tables: the indexes are built on an empty table inside the
same transaction (CONCURRENTLY would gain nothing). Made by `flask db migrate`, reviewed.

Revision ID: 003
Revises: 002
Create Date: 2026-11-27 11:12:52.384277

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '003'
down_revision = '002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
NOW = sa.text('CURRENT_TIMESTAMP')  # autogenerate wrote now(), which SQLite does not know


def upgrade():
    op.create_table('job_chunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('chunk_index', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('priority', sa.Integer(), server_default='5', nullable=False),
    sa.Column('image_range', JSON, nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('retry_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('task_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    sa.CheckConstraint("status IN ('pending', 'processing', 'completed', 'failed')", name=op.f('ck_job_chunks_status')),
    sa.CheckConstraint('priority BETWEEN 0 AND 10', name=op.f('ck_job_chunks_priority_range')),
    sa.CheckConstraint('retry_count >= 0', name=op.f('ck_job_chunks_retry_count_non_negative')),
    sa.ForeignKeyConstraint(['job_id'], ['crawl_jobs.id'], name=op.f('fk_job_chunks_job_id_crawl_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_chunks')),
    # Leads with job_id, so it also serves the foreign key; no index on job_id alone.
    sa.UniqueConstraint('job_id', 'chunk_index', name=op.f('uq_job_chunks_job_id_chunk_index')),
    )
    # The workers' queue: next chunk by priority, then age.
    op.create_index(op.f('ix_job_chunks_priority_created_at'), 'job_chunks', ['priority', 'created_at'])
    op.create_index(op.f('ix_job_chunks_status'), 'job_chunks', ['status'])
    op.create_index(op.f('ix_job_chunks_task_id'), 'job_chunks', ['task_id'])


def downgrade():
    op.drop_index(op.f('ix_job_chunks_task_id'), table_name='job_chunks')
    op.drop_index(op.f('ix_job_chunks_status'), table_name='job_chunks')
    op.drop_index(op.f('ix_job_chunks_priority_created_at'), table_name='job_chunks')
    op.drop_table('job_chunks')
