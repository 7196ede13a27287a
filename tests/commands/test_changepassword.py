"""`flask changepassword EMAIL`: a new password (typed or piped), the lockout cleared, and
bad input refused without touching the stored hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount
from pixcrawler.services import accounts
from tests.commands.cli_helpers import ok, one_error_line, run_in_terminal
from tests.conftest import run_flask

OLD = "correct horse battery staple"
NEW = "a brand new long password"


@pytest.fixture
def admin(migrated_app):
    """An admin account with OLD as its password, locked out after failed logins."""
    with migrated_app.app_context():
        account = accounts.create_superuser("admin@example.com", OLD)
        account.failed_logins = 3
        account.locked_until = datetime.now(UTC) + timedelta(minutes=10)
        db.session.commit()
        db.session.remove()
    return migrated_app


def stored(app) -> AdminAccount:
    with app.app_context():
        account = db.session.scalars(sa.select(AdminAccount)).one()
        db.session.expunge(account)
        db.session.remove()
    return account


def test_script_pipes_the_new_password(admin, head_database_url):
    result = ok(
        run_flask(
            "changepassword",
            "Admin@Example.com",
            "--password-stdin",
            database_url=head_database_url,
            stdin=NEW + "\n",
        )
    )
    assert result.stdout == "Password changed for admin@example.com.\n"
    account = stored(admin)
    assert NEW not in account.password_hash and account.password_hash != NEW
    assert check_password_hash(account.password_hash, NEW)
    assert not check_password_hash(account.password_hash, OLD)
    assert (account.failed_logins, account.locked_until) == (0, None)
    with admin.app_context():
        assert accounts.authenticate("admin@example.com", NEW).ok


def test_typed_at_a_terminal(admin, head_database_url):
    code, screen = run_in_terminal(
        "changepassword",
        "admin@example.com",
        database_url=head_database_url,
        answers=[("Password: ", NEW), ("Password (again): ", NEW)],
    )
    assert code == 0, screen
    assert NEW not in screen
    assert check_password_hash(stored(admin).password_hash, NEW)


def test_mismatch_at_a_terminal_keeps_the_old_password(admin, head_database_url):
    code, screen = run_in_terminal(
        "changepassword",
        "admin@example.com",
        database_url=head_database_url,
        answers=[("Password: ", NEW), ("Password (again): ", NEW.upper())],
    )
    assert code == 1
    assert "Error: the two passwords do not match" in screen
    assert "Traceback" not in screen
    assert check_password_hash(stored(admin).password_hash, OLD)


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        ("nobody@example.com", NEW, "no admin account for nobody@example.com"),
        ("not an email", NEW, "not a valid email"),
        ("admin@example.com", "short", "at least 10 characters"),
        ("admin@example.com", "", "held no password"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(admin, email, stdin, message):
    before = stored(admin).password_hash
    result = admin.test_cli_runner().invoke(
        args=["changepassword", email, "--password-stdin"], input=stdin
    )
    assert message in one_error_line(result)
    assert stored(admin).password_hash == before


def test_without_a_terminal_or_stdin_flag_it_refuses(admin):
    result = admin.test_cli_runner().invoke(args=["changepassword", "admin@example.com"])
    assert "no password given" in one_error_line(result)


def test_the_superuser_environment_variable_is_not_used(admin):
    """A variable left over from provisioning must not silently reset a password."""
    result = admin.test_cli_runner().invoke(
        args=["changepassword", "admin@example.com"],
        env={"PIXCRAWLER_SUPERUSER_PASSWORD": NEW},
    )
    assert "no password given" in one_error_line(result)
    assert check_password_hash(stored(admin).password_hash, OLD)
