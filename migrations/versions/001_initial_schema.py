"""initial schema

Profiles, projects, crawl jobs, images, activity logs, validation jobs and export jobs.

Revision ID: 001
Revises:
Create Date: 2026-11-27 11:01:24.578538

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '001'
down_revision = None
branch_labels = None
depends_on = None

# Self-contained on purpose: a revision must not change when the models do.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TIMESTAMP = sa.DateTime(timezone=True)
NOW = sa.text('CURRENT_TIMESTAMP')  # understood by PostgreSQL and SQLite alike
JOB_STATUSES = "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')"


def timestamps():
    return [
        sa.Column('created_at', TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column('updated_at', TIMESTAMP, server_default=NOW, nullable=False),
    ]


def counters(*names):
    return [sa.Column(n, sa.Integer(), server_default='0', nullable=False) for n in names]


def job_checks(table, *counter_names):
    """Status, progress and non-negative counters, named as the models' naming convention does."""
    return [
        sa.CheckConstraint(JOB_STATUSES, name=op.f(f'ck_{table}_status')),
        sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f(f'ck_{table}_progress_range')),
        *(sa.CheckConstraint(f'{c} >= 0', name=op.f(f'ck_{table}_{c}_non_negative')) for c in counter_names),
    ]


def upgrade():
    op.create_table('profiles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=True),
    sa.Column('avatar_url', sa.Text(), nullable=True),
    sa.Column('role', sa.String(length=20), server_default='user', nullable=False),
    *timestamps(),
    sa.CheckConstraint("role IN ('user', 'admin')", name=op.f('ck_profiles_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('email', name=op.f('uq_profiles_email')),  # also the index for lookups by email
    )

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    *timestamps(),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_projects_status')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_projects_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    )
    op.create_index(op.f('ix_projects_user_id'), 'projects', ['user_id'])

    crawl_counters = ('total_images', 'downloaded_images', 'valid_images',
                      'total_chunks', 'active_chunks', 'completed_chunks', 'failed_chunks')
    op.create_table('crawl_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('keywords', JSON, nullable=False),
    sa.Column('max_images', sa.Integer(), server_default='1000', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    *counters('progress', *crawl_counters),
    sa.Column('task_ids', JSON, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('started_at', TIMESTAMP, nullable=True),
    sa.Column('completed_at', TIMESTAMP, nullable=True),
    *timestamps(),
    *job_checks('crawl_jobs', *crawl_counters),
    sa.CheckConstraint('max_images > 0', name=op.f('ck_crawl_jobs_max_images_positive')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_crawl_jobs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_jobs')),
    )
    # Leads with project_id, so it serves the foreign key too; no index on project_id alone.
    op.create_index(op.f('ix_crawl_jobs_project_id_status'), 'crawl_jobs', ['project_id', 'status'])
    op.create_index(op.f('ix_crawl_jobs_status'), 'crawl_jobs', ['status'])

    op.create_table('images',
    sa.Column('id', BIGINT_ID, nullable=False),
    sa.Column('crawl_job_id', sa.Integer(), nullable=False),
    sa.Column('original_url', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_url', sa.Text(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('is_valid', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('is_duplicate', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('labels', JSON, nullable=True),
    sa.Column('metadata', JSON, nullable=True),
    sa.Column('downloaded_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['crawl_job_id'], ['crawl_jobs.id'], name=op.f('fk_images_crawl_job_id_crawl_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_images')),
    )
    op.create_index(op.f('ix_images_crawl_job_id'), 'images', ['crawl_job_id'])

    op.create_table('activity_logs',
    sa.Column('id', BIGINT_ID, nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('resource_type', sa.String(length=50), nullable=True),
    sa.Column('resource_id', sa.String(length=50), nullable=True),
    sa.Column('metadata', JSON, nullable=True),
    sa.Column('timestamp', TIMESTAMP, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_activity_logs_user_id_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_logs')),
    )
    op.create_index(op.f('ix_activity_logs_user_id'), 'activity_logs', ['user_id'])
    op.create_index(op.f('ix_activity_logs_timestamp'), 'activity_logs', ['timestamp'])

    validation_counters = ('total_images', 'validated_images', 'invalid_images')
    op.create_table('validation_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    *counters('progress', *validation_counters),
    sa.Column('validation_rules', JSON, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('started_at', TIMESTAMP, nullable=True),
    sa.Column('completed_at', TIMESTAMP, nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    *timestamps(),
    *job_checks('validation_jobs', *validation_counters),
    sa.ForeignKeyConstraint(['crawl_job_id'], ['crawl_jobs.id'], name=op.f('fk_validation_jobs_crawl_job_id_crawl_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_jobs')),
    )
    op.create_index(op.f('ix_validation_jobs_crawl_job_id'), 'validation_jobs', ['crawl_job_id'])
    op.create_index(op.f('ix_validation_jobs_status'), 'validation_jobs', ['status'])

    export_counters = ('total_images', 'exported_images')
    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_job_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('format', sa.String(length=20), server_default='zip', nullable=False),
    *counters(*export_counters),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('download_url', sa.Text(), nullable=True),
    sa.Column('export_options', JSON, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('started_at', TIMESTAMP, nullable=True),
    sa.Column('completed_at', TIMESTAMP, nullable=True),
    sa.Column('expires_at', TIMESTAMP, nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    *timestamps(),
    *job_checks('export_jobs', *export_counters),
    sa.ForeignKeyConstraint(['crawl_job_id'], ['crawl_jobs.id'], name=op.f('fk_export_jobs_crawl_job_id_crawl_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_export_jobs_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    )
    op.create_index(op.f('ix_export_jobs_crawl_job_id'), 'export_jobs', ['crawl_job_id'])
    op.create_index(op.f('ix_export_jobs_user_id'), 'export_jobs', ['user_id'])
    op.create_index(op.f('ix_export_jobs_status'), 'export_jobs', ['status'])


def downgrade():
    # Reverse order of upgrade(): children before the tables they reference.
    op.drop_index(op.f('ix_export_jobs_status'), table_name='export_jobs')
    op.drop_index(op.f('ix_export_jobs_user_id'), table_name='export_jobs')
    op.drop_index(op.f('ix_export_jobs_crawl_job_id'), table_name='export_jobs')
    op.drop_table('export_jobs')
    op.drop_index(op.f('ix_validation_jobs_status'), table_name='validation_jobs')
    op.drop_index(op.f('ix_validation_jobs_crawl_job_id'), table_name='validation_jobs')
    op.drop_table('validation_jobs')
    op.drop_index(op.f('ix_activity_logs_timestamp'), table_name='activity_logs')
    op.drop_index(op.f('ix_activity_logs_user_id'), table_name='activity_logs')
    op.drop_table('activity_logs')
    op.drop_index(op.f('ix_images_crawl_job_id'), table_name='images')
    op.drop_table('images')
    op.drop_index(op.f('ix_crawl_jobs_status'), table_name='crawl_jobs')
    op.drop_index(op.f('ix_crawl_jobs_project_id_status'), table_name='crawl_jobs')
    op.drop_table('crawl_jobs')
    op.drop_index(op.f('ix_projects_user_id'), table_name='projects')
    op.drop_table('projects')
    op.drop_table('profiles')
