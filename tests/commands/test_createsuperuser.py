"""`flask createsuperuser`: typed at a terminal, fed by a script, and refused on bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Profile, Role
from tests.commands.cli_helpers import ok, one_error_line, run_in_terminal
from tests.conftest import run_flask

PASSWORD = "correct horse battery staple"


def stored(app) -> list[tuple[str, str, str]]:
    """(email, role, password hash) of every admin account, read fresh from the database."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Profile.email, Profile.role, AdminAccount.password_hash).join(
                AdminAccount.profile
            )
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def profile_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Profile))
        db.session.remove()
    return count


def assert_only_hash_of(password: str, password_hash: str) -> None:
    assert password_hash != password
    assert password not in password_hash
    assert check_password_hash(password_hash, password)


def test_typed_at_a_terminal_with_hidden_confirmed_password(migrated_app, head_database_url):
    code, screen = run_in_terminal(
        "createsuperuser",
        database_url=head_database_url,
        answers=[
            ("Email: ", "Admin@Example.com"),
            ("Password: ", PASSWORD),
            ("Password (again): ", PASSWORD),
        ],
    )
    assert code == 0, screen
    assert "Superuser admin@example.com created." in screen
    assert PASSWORD not in screen  # never echoed
    [(email, role, password_hash)] = stored(migrated_app)
    assert (email, role) == ("admin@example.com", Role.ADMIN)
    assert_only_hash_of(PASSWORD, password_hash)


def test_mismatched_passwords_at_a_terminal_write_nothing(migrated_app, head_database_url):
    code, screen = run_in_terminal(
        "createsuperuser",
        "--email",
        "admin@example.com",
        database_url=head_database_url,
        answers=[("Password: ", PASSWORD), ("Password (again): ", PASSWORD + "!")],
    )
    assert code == 1
    assert "Error: the two passwords do not match; nothing was written" in screen
    assert "Traceback" not in screen
    assert profile_count(migrated_app) == 0


def test_script_gives_the_password_on_stdin(migrated_app, head_database_url):
    result = ok(
        run_flask(
            "createsuperuser",
            "--email",
            "ops@example.com",
            "--full-name",
            "Ops Team",
            "--password-stdin",
            database_url=head_database_url,
            stdin=PASSWORD + "\n",
        )
    )
    assert result.stdout == "Superuser ops@example.com created.\n"
    assert result.stderr == ""
    [(email, _, password_hash)] = stored(migrated_app)
    assert email == "ops@example.com"
    assert_only_hash_of(PASSWORD, password_hash)


def test_script_gives_email_and_password_in_the_environment(migrated_app):
    runner = migrated_app.test_cli_runner()
    result = ok(
        runner.invoke(
            args=["createsuperuser"],
            env={
                "PIXCRAWLER_SUPERUSER_EMAIL": "env@example.com",
                "PIXCRAWLER_SUPERUSER_PASSWORD": PASSWORD,
            },
        )
    )
    assert "Superuser env@example.com created." in result.stdout
    [(email, _, password_hash)] = stored(migrated_app)
    assert email == "env@example.com"
    assert_only_hash_of(PASSWORD, password_hash)


def test_an_existing_profile_is_promoted(migrated_app):
    with migrated_app.app_context():
        db.session.add(Profile(email="member@example.com", role=Role.USER))
        db.session.commit()
    runner = migrated_app.test_cli_runner()
    ok(
        runner.invoke(
            args=["createsuperuser", "--email", "member@example.com", "--password-stdin"],
            input=PASSWORD + "\n",
        )
    )
    [(email, role, _)] = stored(migrated_app)
    assert (email, role) == ("member@example.com", Role.ADMIN)
    assert profile_count(migrated_app) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "not-an-email", "--password-stdin"], PASSWORD, "not a valid email"),
        (["--email", "a@example.com", "--password-stdin"], "short", "at least 10 characters"),
        (["--email", "a@example.com", "--password-stdin"], "12345678901", "all digits"),
        (["--email", "longname@example.com", "--password-stdin"], "longname@e", "part of the"),
        (["--email", "a@example.com", "--password-stdin"], "", "held no password"),
        (["--email", "a@example.com"], "", "no password given"),
        (["--password-stdin"], PASSWORD, "no email given"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(migrated_app, args, stdin, message):
    runner = migrated_app.test_cli_runner()
    result = runner.invoke(args=["createsuperuser", *args], input=stdin)
    assert message in one_error_line(result)
    assert result.stdout == ""
    assert profile_count(migrated_app) == 0


def test_a_second_account_for_the_same_email_is_refused(migrated_app, head_database_url):
    create = ("createsuperuser", "--email", "admin@example.com", "--password-stdin")
    ok(run_flask(*create, database_url=head_database_url, stdin=PASSWORD))
    [before] = stored(migrated_app)
    again = run_flask(*create, database_url=head_database_url, stdin="another password 2")
    assert "already exists" in one_error_line(again)
    assert stored(migrated_app) == [before]


def test_a_database_without_the_schema_gives_one_line(flask_cli):
    result = flask_cli(
        "createsuperuser", "--email", "a@example.com", "--password-stdin", stdin=PASSWORD
    )
    assert "flask check" in one_error_line(result)
