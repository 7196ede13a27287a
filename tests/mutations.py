"""The mutation check: break each critical promise with a one-line change and see a test fail.

A test suite proves a promise only if some test fails when the promise breaks. Each entry of
MUTATIONS below is one such breakage: a file, the exact text of one line (or part of one), what
it becomes, the README promise it breaks, and the tests that must then fail. For every entry
this script copies the working tree to a scratch folder (the repository itself is never
touched), applies the change there, runs `pytest -x -q` on the entry's tests with CI=true
(so a PostgreSQL or browser skip is a failure, as in CI), and prints `caught` when a test
failed or `MISSED` when they all passed. It exits 1 if any entry is missed, or cannot be
applied because the original text is no longer in its file (`STALE`: update the entry).

Run it by hand, not in CI, before resolving an issue that touches these behaviours, and add an
entry for each new promise (README, "The mutation check"):

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python tests/mutations.py
    .venv/bin/python tests/mutations.py --list            # the entries, nothing run
    .venv/bin/python tests/mutations.py lockout-15-min    # some entries, by name

Never weaken an entry to make it pass: a missed entry means a test is missing. pytest does not
collect this file (its name does not start with `test_`).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
# Seconds; the slowest entry takes about 20. A run that takes longer is stopped and reported as
# an ERROR (not caught): a test that hangs under a breakage must fail instead.
ENTRY_TIMEOUT = 180


@dataclass(frozen=True)
class Mutation:
    """One breakage: `original` (found exactly once in `file`) becomes `replacement`."""

    name: str
    file: str
    original: str
    replacement: str
    promise: str
    tests: tuple[str, ...]


PG = "[postgresql]"
SQ = "[sqlite]"
TIMEOUTS = "tests/migrations/test_timeouts_and_failures.py::"
RUNNERS = "tests/migrations/test_concurrent_runners.py::"
ACCOUNTS = "tests/test_accounts_service.py::"
SESSIONS = "tests/admin/test_sessions.py::"
ATTACKS = "tests/admin/test_login_attacks.py::"
ACCESS = "tests/admin/test_access.py::"
PAGES = "tests/admin/test_model_pages.py::"
BIG = "tests/admin/test_big_lists.py::"
INDEXED = "tests/admin/test_list_indexes.py::test_each_list_operation_reads_an_index"
REVISIONS = "tests/migrations/test_new_revisions.py::"
EXPORTS = "tests/admin/test_exports.py::"
LISTS = ("image", "activitylog", "jobchunk")

MUTATIONS: list[Mutation] = [
    # --- one migration runner at a time -------------------------------------------------
    Mutation(
        "pg-lock-ignored",
        "pixcrawler/migrator/lock.py",
        'TRY_SQL = sa.text("SELECT pg_try_advisory_lock(:lock_class, :lock_id)")',
        'TRY_SQL = sa.text("SELECT pg_try_advisory_lock(:lock_class, :lock_id) OR true")',
        "a second PostgreSQL runner waits for the advisory lock (Migrations in production)",
        (RUNNERS + "test_a_runner_says_once_whom_it_waits_for_then_gives_up_cleanly" + PG,),
    ),
    Mutation(
        "sqlite-lock-file-shared",
        "pixcrawler/migrator/lock.py",
        "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)",
        "two SQLite runners never both migrate: an exclusive lock on <database>.migration-lock",
        (RUNNERS + "test_while_a_sqlite_runner_holds_the_lock_file_a_second_one_waits" + SQ,),
    ),
    Mutation(
        "read-only-commands-wait",
        "pixcrawler/migrator/environment.py",
        "lock = nullcontext() if work in READ_ONLY_WORK else None",
        "lock = None",
        "`flask db current`, `history`, `check` and `migrate` never wait for the lock",
        (RUNNERS + "test_read_only_commands_never_wait_for_the_lock" + PG,),
    ),
    # --- retries --------------------------------------------------------------------------
    Mutation(
        "retry-without-pause",
        "pixcrawler/migrator/guard.py",
        "time.sleep(delay)",
        "time.sleep(0)",
        "a migration that hit the lock timeout is retried after 2, 4 and 8 s",
        (TIMEOUTS + "test_lock_timeout_retries_really_pause_and_each_pause_doubles" + PG,),
    ),
    Mutation(
        "retry-pause-not-doubled",
        "pixcrawler/migrator/guard.py",
        "delay = self.limits.retry_delay * 2 ** (attempt - 1)",
        "delay = self.limits.retry_delay",
        "the pause before a retry doubles each time",
        (TIMEOUTS + "test_lock_timeout_retries_really_pause_and_each_pause_doubles" + PG,),
    ),
    Mutation(
        "retry-every-error",
        "pixcrawler/migrator/guard.py",
        "if is_lock_timeout(exc) and attempt <= self.limits.lock_retries:",
        "if attempt <= self.limits.lock_retries:",
        "only lock timeouts are retried; any other error fails at once",
        (TIMEOUTS + "test_a_failing_migration_rolls_back_alone_and_names_the_statement" + SQ,),
    ),
    Mutation(
        "three-retries",
        "pixcrawler/config.py",
        "MIGRATION_LOCK_RETRIES = 3",
        "MIGRATION_LOCK_RETRIES = 2",
        "MIGRATION_LOCK_RETRIES defaults to 3",
        (TIMEOUTS + "test_the_documented_defaults_retry_after_2_4_and_8_seconds",),
    ),
    # --- timeouts -------------------------------------------------------------------------
    Mutation(
        "no-lock-timeout",
        "pixcrawler/migrator/guard.py",
        'execute(f"SET lock_timeout = {_milliseconds(self.limits.lock_timeout)}")',
        'execute("SELECT 1")',
        "every migration statement runs with lock_timeout (MIGRATION_LOCK_TIMEOUT)",
        (TIMEOUTS + "test_limits_one_migration_lifts_are_reset_before_the_next" + PG,),
    ),
    Mutation(
        "no-statement-timeout",
        "pixcrawler/migrator/guard.py",
        'execute(f"SET statement_timeout = {_milliseconds(self.limits.statement_timeout)}")',
        'execute("SELECT 1")',
        "every migration statement runs with statement_timeout (MIGRATION_STATEMENT_TIMEOUT)",
        (TIMEOUTS + "test_statement_timeout_stops_a_slow_statement" + PG,),
    ),
    Mutation(
        "limits-not-reset-between-migrations",
        "pixcrawler/migrator/guard.py",
        "starts afresh.\n            self._set_limits()",
        "starts afresh.\n            pass",
        "a limit one migration lifts for itself is reset before the next migration",
        (TIMEOUTS + "test_limits_one_migration_lifts_are_reset_before_the_next" + PG,),
    ),
    # --- transactions ---------------------------------------------------------------------
    Mutation(
        "one-transaction-for-the-run",
        "pixcrawler/migrator/options.py",
        "transaction_per_migration=True,",
        "transaction_per_migration=False,",
        "one transaction per migration: a failure rolls back that migration only",
        (
            TIMEOUTS + "test_a_failing_migration_rolls_back_alone_and_names_the_statement" + SQ,
            TIMEOUTS + "test_a_failing_migration_rolls_back_alone_and_names_the_statement" + PG,
        ),
    ),
    Mutation(
        "sqlite-plain-begin",
        "pixcrawler/migrator/environment.py",
        'connection.info["sqlite_begin"] = "IMMEDIATE"',
        'connection.info["sqlite_begin"] = ""',
        "each SQLite migration starts with BEGIN IMMEDIATE",
        (RUNNERS + "test_a_sqlite_migration_waits_for_a_writer_instead_of_failing_halfway" + SQ,),
    ),
    # --- big admin lists: keyset pages, no COUNT(*) ---------------------------------------
    Mutation(
        "lists-count-rows",
        "pixcrawler/admin/base.py",
        "simple_list_pager = True",
        "simple_list_pager = False",
        "the images, activity-log and job-chunk lists never run COUNT(*)",
        tuple(
            PAGES + f"test_big_lists_cost_the_same_queries_for_any_size[sqlite-{v}]" for v in LISTS
        ),
    ),
    Mutation(
        "keyset-cursor-ignored",
        "pixcrawler/admin/base.py",
        "query = query.filter(self.after_row(after))",
        "query = query",
        "the Older link carries the last id seen (?after=): keyset pages",
        tuple(PAGES + f"test_big_lists_are_paged_by_keyset[sqlite-{v}]" for v in LISTS),
    ),
    Mutation(
        "images-list-plain",
        "pixcrawler/admin/images.py",
        "from pixcrawler.admin.base import LargeTableView",
        "from pixcrawler.admin.base import ReadOnlyModelView as LargeTableView",
        "the images list is keyset-paged without COUNT(*)",
        (
            PAGES + "test_big_lists_cost_the_same_queries_for_any_size[sqlite-image]",
            PAGES + "test_big_lists_are_paged_by_keyset[sqlite-image]",
        ),
    ),
    Mutation(
        "activity-list-plain",
        "pixcrawler/admin/activity.py",
        "from pixcrawler.admin.base import LargeTableView",
        "from pixcrawler.admin.base import ReadOnlyModelView as LargeTableView",
        "the activity-log list is keyset-paged without COUNT(*)",
        (
            PAGES + "test_big_lists_cost_the_same_queries_for_any_size[sqlite-activitylog]",
            PAGES + "test_big_lists_are_paged_by_keyset[sqlite-activitylog]",
        ),
    ),
    Mutation(
        "job-chunks-list-plain",
        "pixcrawler/admin/job_chunks.py",
        "class JobChunkAdmin(KeysetPaging, SecureModelView):",
        "class JobChunkAdmin(SecureModelView):",
        "the job-chunk list is keyset-paged without COUNT(*)",
        (
            PAGES + "test_big_lists_cost_the_same_queries_for_any_size[sqlite-jobchunk]",
            PAGES + "test_big_lists_are_paged_by_keyset[sqlite-jobchunk]",
        ),
    ),
    Mutation(
        "lists-offset-pages",
        "pixcrawler/admin/base.py",
        "        return query.limit(page_size)",
        "        return query.limit(page_size).offset((page or 0) * page_size)",
        "the big lists never skip rows by OFFSET (a page number is ignored)",
        (BIG + "test_id_ascending_pages_by_keyset_too" + SQ,),
    ),
    Mutation(
        "search-by-substring",
        "pixcrawler/admin/base.py",
        '+ "%"',
        '+ "%" if False else "%" + term + "%"',
        "the file name search is a prefix: cat finds Cat_01.jpg, not a-cat.jpg",
        (BIG + "test_file_name_search_is_a_prefix_in_name_order_page_after_page" + SQ,),
    ),
    Mutation(
        "search-wildcards-live",
        "pixcrawler/admin/base.py",
        "term = search.strip().lower()",
        'term = search.strip().lower(); term = term.replace("%", "").replace("_", "")',
        "% and _ in a search are plain characters",
        (BIG + "test_file_name_search_is_a_prefix_in_name_order_page_after_page" + SQ,),
    ),
    Mutation(
        "search-in-id-order",
        "pixcrawler/admin/base.py",
        "return [key, self.model.id], False",
        "return [self.model.id], True",
        "a file name search lists its matches in file name order, one index range a page",
        (
            BIG + "test_file_name_search_is_a_prefix_in_name_order_page_after_page" + SQ,
            INDEXED + "[image-search={s.old_prefix}-True]",
        ),
    ),
    Mutation(
        "search-key-not-the-index",
        "pixcrawler/models/image.py",
        'return sa.func.lower(Image.filename.collate("C"))',
        "return sa.func.lower(Image.filename)",
        'the file name search reads its index on PostgreSQL (lower(filename COLLATE "C"), id)',
        (INDEXED + "[image-search=zzz-none-False]",),
    ),
    Mutation(
        "filter-contains",
        "pixcrawler/admin/images.py",
        "import BooleanEqualFilter, FilterEqual, IntEqualFilter",
        "import BooleanEqualFilter, IntEqualFilter, FilterLike as FilterEqual",
        "filters are equalities only, each served by an index",
        (
            BIG + "test_the_filters_offer_only_equalities" + SQ,
            INDEXED + "[image-flt0_2=tiff-False]",
        ),
    ),
    Mutation(
        "user-filter-by-subquery",
        "pixcrawler/admin/activity.py",
        "return query.filter(ActivityLog.user_id == user_id if user_id else sa.false())",
        "return query.filter(ActivityLog.user_id == sa.select(Profile.id)"
        ".where(Profile.email == value).scalar_subquery())",
        "the activity log's user filter is a range of (user_id, id) for a known id",
        (INDEXED + "[activitylog-flt0_0={s.old_email}-False]",),
    ),
    Mutation(
        "index-006-without-id",
        "migrations/versions/006_add_indexes_for_the_admin_lists.py",
        "('ix_images_crawl_job_id_id', 'images', ['crawl_job_id', 'id'], None),",
        "('ix_images_crawl_job_id_id', 'images', ['crawl_job_id'], None),",
        "the job filter's page is one range of (crawl_job_id, id)",
        (INDEXED + "[image-flt0_0={s.old_job}-True]",),
    ),
    Mutation(
        "index-006-chunk-job-without-id",
        "migrations/versions/006_add_indexes_for_the_admin_lists.py",
        "('ix_job_chunks_job_id_id', 'job_chunks', ['job_id', 'id'], None),",
        "('ix_job_chunks_job_id_id', 'job_chunks', ['job_id'], None),",
        "the job chunks' job filter is one range of (job_id, id), also for an old job",
        (INDEXED + "[jobchunk-flt0_1={s.old_chunk_job}-True]",),
    ),
    Mutation(
        "index-006-interrupted-left",
        "migrations/versions/006_add_indexes_for_the_admin_lists.py",
        "to_regclass('{name}') AND NOT indisvalid\"):",
        "to_regclass('{name}') AND false\"):",
        "a rerun of 006 after an interrupted build finishes the job",
        (REVISIONS + "test_006_rerun_after_an_interrupted_build_finishes_the_job" + PG,),
    ),
    # --- lockout and login cost -----------------------------------------------------------
    Mutation(
        "lockout-1-min",
        "pixcrawler/services/accounts.py",
        "LOCKOUT = timedelta(minutes=15)",
        "LOCKOUT = timedelta(minutes=1)",
        "five failed logins lock the account for 15 minutes",
        (ACCOUNTS + "test_a_lockout_lasts_15_minutes" + SQ,),
    ),
    Mutation(
        "lockout-16-min",
        "pixcrawler/services/accounts.py",
        "LOCKOUT = timedelta(minutes=15)",
        "LOCKOUT = timedelta(minutes=16)",
        "the lock ends after 15 minutes, not later",
        (ACCOUNTS + "test_a_lockout_lasts_15_minutes" + SQ,),
    ),
    Mutation(
        "lockout-after-6",
        "pixcrawler/services/accounts.py",
        "MAX_FAILED_LOGINS = 5",
        "MAX_FAILED_LOGINS = 6",
        "five failed logins lock the account",
        (ACCOUNTS + "test_wrong_password_locks_the_account_after_repeated_failures" + SQ,),
    ),
    Mutation(
        "failure-count-not-atomic",
        "pixcrawler/services/accounts.py",
        "(locked, table.c.failed_logins), (locking, 0), else_=table.c.failed_logins + 1",
        "(locked, table.c.failed_logins), (locking, 0), else_=account.failed_logins + 1",
        "the failure count is kept by single UPDATE … RETURNING statements: 30 at once lock",
        (ATTACKS + "test_thirty_concurrent_wrong_passwords_lock_the_account" + PG,),
    ),
    Mutation(
        "right-password-opens-a-lock",
        "pixcrawler/services/accounts.py",
        "sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now),",
        "sa.true(),",
        "guesses during the lock are refused, even with the right password",
        (ACCOUNTS + "test_guesses_while_locked_neither_count_nor_extend_the_lock" + SQ,),
    ),
    Mutation(
        "unknown-email-skips-the-hash",
        "pixcrawler/services/accounts.py",
        'check_password_hash(_dummy_hash(), password or "")',
        "_dummy_hash()",
        "an unknown email checks a dummy hash, so it costs what a wrong password costs",
        (ACCOUNTS + "test_every_login_path_costs_exactly_one_hash_check" + SQ,),
    ),
    Mutation(
        "login-rate-limit-raised",
        "pixcrawler/config.py",
        'LOGIN_RATE_LIMIT = "10 per minute"',
        'LOGIN_RATE_LIMIT = "11 per minute"',
        "POST /login takes 10 attempts a minute per client address, then 429",
        (ATTACKS + "test_login_posts_are_limited_to_10_a_minute_per_client_address" + SQ,),
    ),
    # --- passwords in URLs ----------------------------------------------------------------
    Mutation(
        "url-password-shown",
        "pixcrawler/database/urls.py",
        "base = url.set(query={}).render_as_string(hide_password=True)",
        "base = url.set(query={}).render_as_string(hide_password=False)",
        "the dashboard, the API, /readyz and the commands hide the database password",
        (
            "tests/admin/test_dashboard.py::test_the_database_password_is_never_shown[postgresql-userinfo]",
        ),
    ),
    Mutation(
        "query-password-shown",
        "pixcrawler/database/urls.py",
        '    if key.lower() in SECRET_PARAMETERS:\n        return "***"',
        "    if key.lower() in SECRET_PARAMETERS:\n        return value",
        "a password in ?password= is hidden too",
        ("tests/test_config.py::test_mask_hides_every_form_of_password",),
    ),
    # --- server-side sessions -------------------------------------------------------------
    Mutation(
        "logout-keeps-the-row",
        "pixcrawler/admin/sessions.py",
        "        admin_sessions.end_session(session_id)\n        db.session.commit()",
        "        db.session.commit()",
        "logout deletes the session's row: a copy of the cookie is refused afterwards",
        (SESSIONS + "test_a_cookie_copied_before_logout_is_refused_after_it" + SQ,),
    ),
    Mutation(
        "session-id-stored-as-is",
        "pixcrawler/services/admin_sessions.py",
        "return hashlib.sha256(session_id.encode()).hexdigest()",
        "return session_id",
        "admin_sessions holds a SHA-256 digest of the session id; the id is only in the cookie",
        (SESSIONS + "test_the_server_keeps_only_a_digest_of_the_session_id" + SQ,),
    ),
    Mutation(
        "new-password-keeps-sessions",
        "pixcrawler/services/accounts.py",
        "    db.session.flush()\n    end_all_sessions(account.profile_id)",
        "    db.session.flush()",
        "a new password ends every session of that admin",
        (
            ACCOUNTS + "test_a_new_password_ends_every_session_of_the_account" + SQ,
            SESSIONS + "test_a_new_password_ends_copied_cookies" + SQ,
        ),
    ),
    Mutation(
        "no-idle-timeout",
        "pixcrawler/services/admin_sessions.py",
        "return now - last_seen_at > self.idle or now - created_at > self.absolute",
        "return now - created_at > self.absolute",
        "a session ends ADMIN_SESSION_IDLE_TIMEOUT after its last request (2 hours)",
        (SESSIONS + "test_a_session_ends_after_2_hours_idle" + SQ,),
    ),
    Mutation(
        "no-absolute-lifetime",
        "pixcrawler/services/admin_sessions.py",
        "return now - last_seen_at > self.idle or now - created_at > self.absolute",
        "return now - last_seen_at > self.idle",
        "a session ends ADMIN_SESSION_LIFETIME after its login, however busy (12 hours)",
        (SESSIONS + "test_a_session_ends_12_hours_after_login_however_busy" + SQ,),
    ),
    Mutation(
        "idle-timeout-3-hours",
        "pixcrawler/config.py",
        "ADMIN_SESSION_IDLE_TIMEOUT: Seconds = 2 * 60 * 60",
        "ADMIN_SESSION_IDLE_TIMEOUT: Seconds = 3 * 60 * 60",
        "the idle timeout defaults to 2 hours",
        (SESSIONS + "test_a_session_ends_after_2_hours_idle" + SQ,),
    ),
    # --- session protection ---------------------------------------------------------------
    Mutation(
        "session-protection-basic",
        "pixcrawler/admin/auth.py",
        'manager.session_protection = "strong"',
        'manager.session_protection = "basic"',
        'Flask-Login\'s "strong" protection: a new address or User-Agent ends the session',
        (SESSIONS + "test_a_new_user_agent_ends_the_session_for_good" + SQ,),
    ),
    Mutation(
        "protection-leaves-the-row",
        "pixcrawler/admin/auth.py",
        "sessions.end(session.pop(SESSION_ID_KEY))",
        "session.pop(SESSION_ID_KEY)",
        "a session ended by session protection ends on the server too, for good",
        (SESSIONS + "test_a_new_client_address_ends_the_session_for_good" + SQ,),
    ),
    Mutation(
        "protection-believes-x-forwarded-for",
        "pixcrawler/admin/auth.py",
        "manager._session_identifier_generator = client_identifier",
        "manager._session_identifier_generator = manager._session_identifier_generator",
        "an X-Forwarded-For header sent by a client is ignored by session protection",
        (SESSIONS + "test_x_forwarded_for_is_ignored_without_trusted_proxies" + SQ,),
    ),
    Mutation(
        "unverified-sessions-write",
        "pixcrawler/admin/auth.py",
        'READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})',
        'READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST"})',
        "an unverified session may send nothing but GET (and logout): 403",
        (
            SESSIONS
            + "test_without_the_sessions_table_only_known_sessions_get_in_and_only_read"
            + SQ,
        ),
    ),
    # --- CSRF, headers, proxies, bad bytes ------------------------------------------------
    Mutation(
        "no-csrf-protection",
        "pixcrawler/admin/auth.py",
        "    CSRFProtect(app)\n",
        "",
        "a POST under /admin without a valid token is refused first, with 400",
        (
            ACCESS + "test_an_anonymous_post_without_a_token_is_refused_first_with_400"
            "[sqlite-text/html-/admin/project/new/]",
        ),
    ),
    Mutation(
        "framing-allowed",
        "pixcrawler/web.py",
        'headers.setdefault("X-Frame-Options", "DENY")',
        'headers.setdefault("X-Frame-Options", "SAMEORIGIN")',
        "every response carries X-Frame-Options: DENY",
        (ATTACKS + "test_admin_pages_refuse_framing_sniffing_and_caching[sqlite-/admin/]",),
    ),
    Mutation(
        "responses-cached",
        "pixcrawler/web.py",
        'headers["Cache-Control"] = "no-store"',
        'headers["Cache-Control"] = "private"',
        "every response but the static files carries Cache-Control: no-store",
        (ATTACKS + "test_an_export_is_never_cached" + SQ,),
    ),
    Mutation(
        "no-hsts",
        "pixcrawler/web.py",
        'headers.setdefault("Strict-Transport-Security", HSTS)',
        "pass",
        "with PIXCRAWLER_ENV=production every response carries HSTS",
        (ATTACKS + "test_production_adds_hsts" + SQ,),
    ),
    Mutation(
        "proxy-count-off-by-one",
        "pixcrawler/web.py",
        "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)",
        "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies + 1, x_proto=proxies)",
        "TRUSTED_PROXY_COUNT=1: the client address is the last X-Forwarded-For entry",
        (SESSIONS + "test_with_one_trusted_proxy_the_forwarded_address_is_the_clients" + SQ,),
    ),
    Mutation(
        "proto-from-any-client",
        "pixcrawler/web.py",
        "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)",
        "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0)",
        "behind a trusted proxy the scheme comes from X-Forwarded-Proto",
        (
            SESSIONS
            + "test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy[sqlite-1-https]",
        ),
    ),
    Mutation(
        "nul-accepted",
        "pixcrawler/web.py",
        '"\\x00" in text or "\\ufffd" in text for text in texts',
        '"\\ufffd" in text for text in texts',
        "a NUL in a query parameter or a form field is a 400",
        (ATTACKS + "test_a_nul_in_a_login_field_is_a_400[postgresql-email]",),
    ),
    Mutation(
        "bad-utf8-accepted",
        "pixcrawler/web.py",
        "if not all(is_utf8(unquote_to_bytes(data)) for data in raw) or any(",
        "if any(",
        "bytes that are not UTF-8 in a parameter are a 400",
        (ATTACKS + "test_bytes_that_are_not_utf8_are_a_400" + SQ,),
    ),
    # --- exports --------------------------------------------------------------------------
    Mutation(
        "csv-tab-formula-kept",
        "pixcrawler/admin/base.py",
        'FORMULA_STARTS = ("=", "+", "-", "@", "\\t", "\\r")',
        'FORMULA_STARTS = ("=", "+", "-", "@")',
        "a cell starting with a tab or a carriage return gets a leading ' too",
        (PAGES + "test_exports_never_hand_a_spreadsheet_a_formula" + SQ,),
    ),
    Mutation(
        "csv-export-raw",
        "pixcrawler/admin/base.py",
        "return spreadsheet_safe(super().get_export_value(model, name))",
        "return super().get_export_value(model, name)",
        "exports never hand a spreadsheet a formula (OWASP's CSV injection advice)",
        (PAGES + "test_exports_never_hand_a_spreadsheet_a_formula" + SQ,),
    ),
    Mutation(
        "export-capped",
        "pixcrawler/admin/exports.py",
        "page_size=0,",
        "page_size=10_000,",
        "an export holds every row of the list, past Flask-Admin's old 10,000-row cap",
        (EXPORTS + "test_an_export_holds_every_row_past_the_old_cap[sqlite-csv]",),
    ),
    Mutation(
        "export-cut-by-after",
        "pixcrawler/admin/base.py",
        "if not page_size:",
        "if not page_size and self.keyset_after() is None:",
        "a keyset page's ?after= does not cut the export",
        (EXPORTS + "test_a_keyset_page_s_after_does_not_cut_the_export[sqlite-image]",),
    ),
    Mutation(
        "export-not-streamed",
        "pixcrawler/admin/exports.py",
        "return query.yield_per(self.export_batch_size)",
        "return query",
        "PostgreSQL hands the export its rows from a server-side cursor, a batch at a time",
        (EXPORTS + "test_on_postgresql_the_rows_come_from_a_server_side_cursor" + PG,),
    ),
    # --- typed settings -------------------------------------------------------------------
    Mutation(
        "booleans-by-truthiness",
        "pixcrawler/env_settings.py",
        "    bool: parse_bool,",
        "    bool: bool,",
        "a boolean setting spelled false/no/off/0 is False, not a non-empty string",
        ("tests/test_env_settings.py::test_booleans_are_spelled_in_any_case",),
    ),
    Mutation(
        "booleans-case-sensitive",
        "pixcrawler/env_settings.py",
        "def parse_bool(text: str) -> bool:\n    word = text.strip().lower()",
        "def parse_bool(text: str) -> bool:\n    word = text.strip()",
        "a boolean is true/false (and yes/no, on/off, 1/0) in any case",
        ("tests/test_env_settings.py::test_booleans_are_spelled_in_any_case",),
    ),
    # --- one-line errors ------------------------------------------------------------------
    Mutation(
        "usage-errors-exit-2",
        "pixcrawler/cli.py",
        "    except click.UsageError as exc:\n        raise CommandError(usage_message(exc))",
        "    except click.BadParameter as exc:\n        raise CommandError(usage_message(exc))",
        "a bad option or a missing argument is one Error: line and exit 1",
        ("tests/test_cli.py::test_a_usage_mistake_is_one_line_and_exit_1",),
    ),
    Mutation(
        "database-errors-traceback",
        "pixcrawler/cli.py",
        '    except sa.exc.DBAPIError as exc:\n        raise CommandError(f"database error',
        '    except sa.exc.ProgrammingError as exc:\n        raise CommandError(f"database error',
        "a database that does not answer is one Error: line naming it, password hidden",
        ("tests/test_cli.py::test_an_unreachable_database_is_one_line",),
    ),
    # --- production downgrades ------------------------------------------------------------
    Mutation(
        "production-downgrade-unasked",
        "pixcrawler/commands/_db/downgrade.py",
        'if config["ENV_NAME"] != "production" or yes or config.get("ALLOW_DOWNGRADE"):',
        'if config["ENV_NAME"] != "production" or yes or "ALLOW_DOWNGRADE" in config:',
        "a production downgrade without a terminal, --yes or ALLOW_DOWNGRADE refuses",
        (
            "tests/migrations/test_lint_and_downgrade.py::"
            "test_production_downgrade_without_terminal_or_flag_refuses_and_changes_nothing"
            "[sqlite]",
        ),
    ),
    # --- what flask db check and migrate compare ------------------------------------------
    Mutation(
        "drift-blind-to-checks",
        "pixcrawler/migrator/options.py",
        'autogenerate_plugins=["alembic.autogenerate.*", compare.PLUGIN],',
        'autogenerate_plugins=["alembic.autogenerate.*"],',
        "flask db check sees a CHECK constraint added, changed or removed",
        (
            "tests/migrations/test_drift_cli.py::test_db_check_prints_each_difference_on_its_own_line[sqlite]",
        ),
    ),
    Mutation(
        "drift-blind-to-defaults",
        "pixcrawler/migrator/options.py",
        "compare_server_default=compare.compare_server_default,",
        "compare_server_default=False,",
        "flask db check sees a server default added, changed or removed",
        (
            "tests/migrations/test_drift_corpus.py::test_a_model_change_is_seen_written_applied_and_undone"
            "[sqlite-server default added]",
        ),
    ),
    Mutation(
        "rename-never-asked",
        "pixcrawler/migrator/renames.py",
        "return terminal_question if sys.stdin.isatty() else None",
        "return None",
        "on a terminal, flask db migrate asks whether a column was renamed",
        (
            "tests/migrations/test_drift_cli.py::test_on_a_terminal_migrate_asks_and_a_yes_keeps_the_data[sqlite]",
        ),
    ),
    Mutation(
        "merge-of-one",
        "pixcrawler/migrator/new_revisions.py",
        "    if len(ids) >= 2:\n        return ids",
        "    if len(ids) >= 0:\n        return ids",
        "a merge joins two heads or more; it never writes a second root",
        (
            "tests/test_cli_db.py::"
            "test_merge_without_revisions_joins_every_head_and_never_makes_a_root[sqlite]",
        ),
    ),
    # --- offline SQL for SQLite -----------------------------------------------------------
    Mutation(
        "offline-sqlite-no-table-to-copy",
        "pixcrawler/migrator/sqlite_offline.py",
        'kw["copy_from"] = self.table(table_name, migration_context, **kw)',
        'kw["copy_from"] = None',
        "offline SQLite SQL renders batch operations (the table copy) for the whole chain",
        (
            "tests/commands/test_sqlmigrate.py::test_every_revision_renders_both_ways_for_sqlite[sqlite]",
        ),
    ),
    Mutation(
        "offline-sqlite-foreign-keys-on",
        "pixcrawler/migrator/sqlite_offline.py",
        "migration_context.impl.static_output(FOREIGN_KEYS_OFF)",
        "pass",
        "the offline SQLite script starts with PRAGMA foreign_keys=OFF, as the online upgrade",
        ("tests/test_cli_db.py::test_offline_sqlite_sql_never_cascades_into_child_rows",),
    ),
]


# --- running ------------------------------------------------------------------------------


def check_entries(mutations: list[Mutation]) -> list[str]:
    """Problems with the list itself: duplicate names, texts no longer found exactly once."""
    problems = []
    names = [m.name for m in mutations]
    problems += [f"{n}: name used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for mutation in mutations:
        path = REPO_ROOT / mutation.file
        count = path.read_text().count(mutation.original) if path.exists() else 0
        if count != 1:
            problems.append(
                f"{mutation.name}: STALE, the original text is found {count} times in "
                f"{mutation.file} (expected once): update the entry"
            )
        if not mutation.tests:
            problems.append(f"{mutation.name}: names no test")
    return problems


def scratch_copy(target: Path) -> None:
    """The working tree as it is (tracked and untracked files, not the ignored ones)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO_ROOT / os.fsdecode(name)
        if not source.is_file():
            continue  # deleted in the working tree
        destination = target / os.fsdecode(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


@dataclass
class Outcome:
    mutation: Mutation
    verdict: str  # caught, MISSED, ERROR
    seconds: float
    detail: str


class Runner:
    """Runs pytest in one scratch copy; the copy's own files win over the installed package."""

    def __init__(self, copy: Path, server: str):
        self.copy = copy
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        self.env.update(
            CI="true",
            TEST_DATABASE_URL=server,
            PYTHONPATH=str(copy),  # before the editable install, in every subprocess too
            PYTHONDONTWRITEBYTECODE="1",
        )
        self.process: subprocess.Popen | None = None

    def pytest(self, tests: tuple[str, ...], timeout: float) -> tuple[int, str]:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={self.copy / '.pytest-tmp'}",
            *tests,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.copy,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so a timeout or Ctrl-C ends its children too
        )
        try:
            output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            self.process.communicate()
            return -1, f"timed out after {timeout:g} s"
        finally:
            code = self.process.returncode
            self.process = None
        return code, output

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    def run(self, mutation: Mutation, timeout: float) -> Outcome:
        path = self.copy / mutation.file
        original = path.read_text()
        path.write_text(original.replace(mutation.original, mutation.replacement, 1))
        started = time.monotonic()
        try:
            code, output = self.pytest(mutation.tests, timeout)
        finally:
            path.write_text(original)
        seconds = time.monotonic() - started
        failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
        if code == 1:
            return Outcome(mutation, "caught", seconds, failed[0] if failed else "")
        if code == 0:
            return Outcome(mutation, "MISSED", seconds, last_line(output))
        return Outcome(mutation, "ERROR", seconds, f"pytest exit {code}: {last_line(output)}")


def last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="Run only these entries (all by default).")
    parser.add_argument("--list", action="store_true", help="List the entries; run nothing.")
    parser.add_argument("--workers", type=int, default=2, help="Scratch copies run at once.")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="Skip the first run of every selected test on the unchanged code.",
    )
    args = parser.parse_args()

    problems = check_entries(MUTATIONS)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name}\n  {m.file}: {m.original!r}\n  -> {m.replacement!r}")
            print(f"  promise: {m.promise}\n  tests: {' '.join(m.tests)}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.list:
        return 0
    unknown = sorted(set(args.names) - {m.name for m in MUTATIONS})
    if unknown:
        print(f"unknown entries: {', '.join(unknown)}", file=sys.stderr)
        return 1
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    server = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    workers = max(1, min(args.workers, len(chosen)))

    with tempfile.TemporaryDirectory(prefix="pixcrawler-mutations-") as scratch:
        runners = []
        for i in range(workers):
            copy = Path(scratch) / f"copy{i}"
            scratch_copy(copy)
            runners.append(Runner(copy, server))
        started = time.monotonic()
        try:
            if not args.no_baseline and not baseline(runners[0], chosen):
                return 1
            outcomes = run_all(runners, chosen)
        except KeyboardInterrupt:
            for runner in runners:
                runner.stop()
            print("\ninterrupted: the repository was never changed", file=sys.stderr)
            return 130
    missed = [o for o in outcomes if o.verdict != "caught"]
    print(
        f"\n{len(outcomes) - len(missed)} caught, {len(missed)} not caught, of {len(outcomes)} "
        f"mutations, in {time.monotonic() - started:.0f} s"
    )
    for outcome in missed:
        print(f"  {outcome.verdict}: {outcome.mutation.name}: {outcome.mutation.promise}")
    return 1 if missed else 0


def baseline(runner: Runner, chosen: list[Mutation]) -> bool:
    """Every selected test passes on the unchanged code, or no verdict would mean anything."""
    tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
    print(f"baseline: {len(tests)} tests on the unchanged code …", flush=True)
    started = time.monotonic()
    code, output = runner.pytest(tests, ENTRY_TIMEOUT * 2)
    if code != 0:
        print(output, file=sys.stderr)
        print("baseline failed: fix the suite before checking mutations", file=sys.stderr)
        return False
    print(f"baseline: {last_line(output)} ({time.monotonic() - started:.0f} s)\n", flush=True)
    return True


def run_all(runners: list[Runner], chosen: list[Mutation]) -> list[Outcome]:
    """Each entry on the next free copy; results printed as they come, listed in order."""
    free: queue.Queue[Runner] = queue.Queue()
    for runner in runners:
        free.put(runner)
    lock = threading.Lock()

    def one(mutation: Mutation) -> Outcome:
        runner = free.get()
        try:
            outcome = runner.run(mutation, ENTRY_TIMEOUT)
        finally:
            free.put(runner)
        with lock:
            print(f"{outcome.verdict:<7} {mutation.name:<38} {outcome.seconds:5.1f} s", end="")
            print(f"  {outcome.detail}" if outcome.detail else "", flush=True)
        return outcome

    pool = ThreadPoolExecutor(max_workers=len(runners))
    futures = [pool.submit(one, mutation) for mutation in chosen]
    try:
        return [future.result() for future in futures]
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        for runner in runners:
            runner.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


if __name__ == "__main__":
    sys.exit(main())
