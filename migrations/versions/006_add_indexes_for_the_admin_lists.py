"""add indexes for the admin lists

The admin lists images, activity logs and job chunks newest first (ORDER BY id DESC LIMIT 20)
and filters them one column at a time. With an index on the filtered column alone, PostgreSQL
either walks the primary key backwards past every row that does not match (all of them, for a
value that matches nothing), or fetches every match and sorts it. An index that ends with the
id gives the page in order from one range, at any table size; so does an index that holds only
the rare rows of a flag. The file name search is a case-insensitive prefix, listed in the order
of its own index (`lower(filename COLLATE "C"), id`), so its pages are ranges too.

Where a new index leads with the column of an old one, it replaces it (one index less to keep
up on every insert): images' `(crawl_job_id, hash)` gives way to `(crawl_job_id, id)` (the job
filter and the foreign key) and `(hash, id)` (duplicate lookups across jobs, and within one);
activity logs' `user_id` and job chunks' `status` gain the id. Job chunks' unique
`(job_id, chunk_index)` stays (it is the rule, and it serves the foreign key); the job filter
gets `(job_id, id)` beside it.

All of it runs as 004 does: on PostgreSQL, CREATE INDEX CONCURRENTLY in an autocommit block
(writers go on; an index that an interrupted run left INVALID is dropped and built again, so a
rerun finishes the job), and the old indexes are dropped CONCURRENTLY only once their
replacements are built; the downgrade builds the old ones before dropping the new. SQLite has
no concurrent writers to spare and runs it in one transaction, without the file name index
(SQLite has no "C" collation; a search there reads the table).
Made by `flask db migrate`, reviewed and rewritten to build concurrently.

Revision ID: 006
Revises: 005
Create Date: 2026-11-28 00:52:11.402113

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '006'
down_revision = '005'
branch_labels = None
depends_on = None

# (name, table, columns, partial index condition or None), in the order they are built.
NEW = [
    ('ix_images_crawl_job_id_id', 'images', ['crawl_job_id', 'id'], None),
    ('ix_images_hash_id', 'images', ['hash', 'id'], None),
    ('ix_images_format_id', 'images', ['format', 'id'], None),
    ('ix_images_invalid', 'images', ['id'], 'NOT is_valid'),
    ('ix_images_duplicate', 'images', ['id'], 'is_duplicate'),
    ('ix_activity_logs_user_id_id', 'activity_logs', ['user_id', 'id'], None),
    ('ix_activity_logs_action_id', 'activity_logs', ['action', 'id'], None),
    ('ix_activity_logs_resource_type_id', 'activity_logs', ['resource_type', 'id'], None),
    ('ix_job_chunks_status_id', 'job_chunks', ['status', 'id'], None),
    ('ix_job_chunks_job_id_id', 'job_chunks', ['job_id', 'id'], None),
]
# PostgreSQL only: the "C" collation lets LIKE 'prefix%' range over a btree.
FILENAME_PREFIX = ('ix_images_filename_prefix', 'images', [sa.text('lower(filename COLLATE "C")'), 'id'], None)
# What the new indexes replace, as 004 and 001/003 made them.
OLD = [
    ('ix_images_crawl_job_id_hash', 'images', ['crawl_job_id', 'hash'], None),
    ('ix_activity_logs_user_id', 'activity_logs', ['user_id'], None),
    ('ix_job_chunks_status', 'job_chunks', ['status'], None),
]


def upgrade():
    if op.get_context().dialect.name != 'postgresql':
        for index in NEW:
            _create(*index)
        for name, table, _, _ in OLD:
            op.drop_index(name, table_name=table)
        return

    with op.get_context().autocommit_block():
        for index in [*NEW, FILENAME_PREFIX]:
            _build_concurrently(*index)
        for name, table, _, _ in OLD:
            op.drop_index(name, table_name=table, if_exists=True, postgresql_concurrently=True)


def downgrade():
    if op.get_context().dialect.name != 'postgresql':
        for index in OLD:
            _create(*index)
        for name, table, _, _ in NEW:
            op.drop_index(name, table_name=table)
        return

    with op.get_context().autocommit_block():
        for index in OLD:
            _build_concurrently(*index)
        for name, table, _, _ in [*NEW, FILENAME_PREFIX]:
            op.drop_index(name, table_name=table, if_exists=True, postgresql_concurrently=True)


def _create(name, table, columns, where):
    condition = sa.text(where) if where else None
    op.create_index(name, table, columns, sqlite_where=condition)


def _build_concurrently(name, table, columns, where):
    """CREATE INDEX CONCURRENTLY, first dropping what an interrupted build left."""
    if _exists(f"SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('{name}') AND NOT indisvalid"):
        op.drop_index(name, table_name=table, postgresql_concurrently=True)
    condition = sa.text(where) if where else None
    op.create_index(
        name, table, columns, postgresql_where=condition, if_not_exists=True, postgresql_concurrently=True
    )


def _exists(query):
    """True when the query finds a row; offline (SQL for review or lint) nothing exists yet."""
    if op.get_context().as_sql:
        return False
    return op.get_bind().execute(sa.text(query)).first() is not None
