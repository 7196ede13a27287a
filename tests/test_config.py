"""The factory and its configuration: URLs, secrets, defaults, SQLite behaviour."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from pixcrawler import ConfigError, create_app
from pixcrawler.config import DEVELOPMENT_SECRET_KEY, default_sqlite_url, secret_key_weakness
from pixcrawler.database.urls import mask, normalize_database_url
from pixcrawler.extensions import db
from tests.conftest import REPO_ROOT, run_flask


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://u:p@db.example.com:5432/app",
            "postgresql+psycopg2://u:p@db.example.com:5432/app",
        ),
        ("postgresql://u:p@db.example.com/app", "postgresql+psycopg2://u:p@db.example.com/app"),
        ("postgresql+asyncpg://u@h/app", "postgresql+psycopg2://u@h/app"),
        (
            "postgresql+psycopg2://u@h/app?sslmode=require",
            "postgresql+psycopg2://u@h/app?sslmode=require",
        ),
        ("sqlite+aiosqlite:///data/app.db", "sqlite:///data/app.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("  postgres://u@h/app\n", "postgresql+psycopg2://u@h/app"),
    ],
)
def test_database_urls_are_normalised_to_installed_drivers(given, expected):
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not a url", "DATABASE_URL is malformed"),
        ("postgresql://u@h:notaport/app", "DATABASE_URL is malformed"),
        ("nosuchdb://u@h/app", "unknown database type 'nosuchdb'"),
        ("mysql://u@h/app", "needs the Python driver for 'mysql'"),
    ],
)
def test_unusable_database_urls_are_refused_with_the_cause(given, message):
    with pytest.raises(ConfigError, match=message):
        normalize_database_url(given)


def test_a_password_never_appears_in_the_malformed_url_message():
    with pytest.raises(ConfigError) as info:
        normalize_database_url("postgresql://user:s3cret@h:port/app")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://u:Pw-s3cret@h/app", "postgresql://u:***@h/app"),
        ("postgresql://u@h/app?password=Pw-s3cret", "postgresql://u@h/app?password=***"),
        (
            "postgresql://u@h/app?sslmode=require&PASSWORD=Pw-s3cret&sslpassword=Pw-s3cret",
            "postgresql://u@h/app?sslmode=require&PASSWORD=***&sslpassword=***",
        ),
        # libpq's key/value form inside the URL (psycopg2 takes `dsn`), and on its own.
        (
            "postgresql://h/app?dsn=user%3Du%20password%3DPw-s3cret%20sslmode%3Drequire",
            "postgresql://h/app?dsn=user=u password=*** sslmode=require",
        ),
        ("host=h user=u password=Pw-s3cret dbname=app", "host=h user=u password=*** dbname=app"),
        ("host=h password = 'Pw s3cret' dbname=app", "host=h password = *** dbname=app"),
        ("postgresql://u:Pw-s3cret@h:port/app", "<unparseable URL>"),
        ("sqlite:////srv/app.db", "sqlite:////srv/app.db"),
    ],
)
def test_mask_hides_every_form_of_password(given, shown):
    assert mask(given) == shown
    assert "s3cret" not in mask(given)


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app({"ENV_NAME": "testing"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"


def test_the_mapping_given_to_the_factory_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///ignored.db")
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x"


def test_without_database_url_the_default_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"ENV_NAME": "testing"})
    expected = Path(app.instance_path) / "pixcrawler.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"
    assert Path(app.instance_path).is_dir()


def test_default_sqlite_url_creates_the_instance_folder(tmp_path):
    folder = tmp_path / "instance" / "nested"
    assert default_sqlite_url(str(folder)).endswith("nested/pixcrawler.sqlite3")
    assert folder.is_dir()


@pytest.mark.parametrize("secret", [None, "", DEVELOPMENT_SECRET_KEY])
def test_production_refuses_a_missing_or_default_secret_key(monkeypatch, secret):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": secret})


WEAK_KEYS = [
    "a" * 40,
    "k" * 48,
    "password" * 5,
    "password" * 4 + "1",
    "mysecretmysecretmysecretkey12345",
    "0123456789" * 4,
    "short-but-random-7Hq2",
]


@pytest.mark.parametrize("secret", WEAK_KEYS)
def test_production_refuses_a_weak_secret_key(monkeypatch, secret):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is weak"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": secret})


def test_random_secret_keys_are_accepted():
    for _ in range(200):
        for key in (secrets.token_urlsafe(48), secrets.token_hex(32), secrets.token_hex(16)):
            assert secret_key_weakness(key) is None, key


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "flask", "routes"],
        ["-c", "import wsgi"],  # what a WSGI server does with `wsgi:app`
        ["-m", "alembic", "-c", "migrations/alembic.ini", "current"],  # env.py builds the app
    ],
    ids=["flask", "wsgi", "alembic"],
)
def test_every_entry_point_refuses_a_weak_key_in_one_line(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    env.update(
        PIXCRAWLER_ENV="production",
        SECRET_KEY="password" * 5,
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
    )
    result = subprocess.run(
        [sys.executable, *command], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: SECRET_KEY is weak: it repeats itself"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_production_starts_with_a_real_secret_key_and_secure_cookies(monkeypatch):
    key = secrets.token_urlsafe(48)
    monkeypatch.setenv("SECRET_KEY", key)
    app = create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == key
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("PIXCRAWLER_ENV", "staging-ish")
    with pytest.raises(ConfigError, match="PIXCRAWLER_ENV"):
        create_app()


def test_extensions_are_bound_per_app(tmp_path):
    one = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/1"})
    two = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/2"})
    assert {"sqlalchemy", "migrate"} <= set(one.extensions)
    with one.app_context():
        first = db.engine.url.database
    with two.app_context():
        second = db.engine.url.database
    assert first != second


def test_sqlite_enforces_foreign_keys_on_every_connection(tmp_path):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/f"})
    with app.app_context():
        for _ in range(3):
            with db.engine.connect() as connection:
                assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            db.engine.dispose()  # the next connection is a new one


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u@h/app", "needs the Python driver for 'mysql'"),
        ("not a url", "DATABASE_URL is malformed"),
    ],
)
def test_an_app_that_cannot_load_says_why_in_one_line(tmp_path, url, expected):
    result = run_flask("db", "upgrade", database_url=url)
    assert result.returncode == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "No such command" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
