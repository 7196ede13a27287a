"""`PIXCRAWLER_<KEY>` settings mean what they say: each is parsed as the type of its default,
`False` is off, and a value that fits no type stops every entry point with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from pixcrawler import ConfigError, create_app
from pixcrawler.config import TestingConfig
from pixcrawler.env_settings import Seconds, load_prefixed_env
from pixcrawler.extensions import db
from pixcrawler.migrator.state import migration_state
from tests.admin.helpers import add_superuser, csrf_token, login
from tests.conftest import REPO_ROOT, make_app, run_alembic, run_flask
from tests.databases import delete_all_rows

BOOLEANS = [
    ("true", True), ("True", True), ("TRUE", True), ("yes", True), ("Yes", True), ("on", True),
    ("ON", True), ("1", True), (" true\n", True),
    ("false", False), ("False", False), ("FALSE", False), ("no", False), ("No", False),
    ("off", False), ("Off", False), ("0", False),
]  # fmt: skip
BOOLEAN_ERROR = "must be true or false (also yes/no, on/off, 1/0, in any case)"


def app_with(monkeypatch, **environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(("text", "expected"), BOOLEANS)
@pytest.mark.parametrize(
    "key", ["ALLOW_DOWNGRADE", "ADMIN_ALLOW_UPGRADE", "SESSION_COOKIE_SECURE"]
)
def test_booleans_are_spelled_in_any_case(monkeypatch, key, text, expected):
    app = app_with(monkeypatch, **{f"PIXCRAWLER_{key}": text})
    assert app.config[key] is expected


@pytest.mark.parametrize("text", ["maybe", "", "2", "False!", "nein", "-1"])
def test_anything_else_is_refused_naming_the_variable(monkeypatch, text):
    with pytest.raises(ConfigError) as refused:
        app_with(monkeypatch, PIXCRAWLER_ALLOW_DOWNGRADE=text)
    assert str(refused.value) == f"PIXCRAWLER_ALLOW_DOWNGRADE {BOOLEAN_ERROR}, not {text!r}"


def test_admin_upgrades_are_off_unless_set_and_declared_in_config(monkeypatch):
    assert app_with(monkeypatch).config["ADMIN_ALLOW_UPGRADE"] is False
    assert TestingConfig.ADMIN_ALLOW_UPGRADE is False


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("MIGRATION_LOCK_TIMEOUT", "0.5", 0.5),
        ("MIGRATION_LOCK_TIMEOUT", "10", 10),
        ("MIGRATION_WAIT_TIMEOUT", "0", 0),
        ("MIGRATION_STATEMENT_TIMEOUT", " 600 ", 600),
        ("MIGRATION_RETRY_DELAY", "1.5", 1.5),
        ("MIGRATION_LOCK_RETRIES", "7", 7),
        ("PERMANENT_SESSION_LIFETIME", "3600", timedelta(hours=1)),
        ("PERMANENT_SESSION_LIFETIME", "0.5", timedelta(milliseconds=500)),
        ("SEND_FILE_MAX_AGE_DEFAULT", "60", timedelta(minutes=1)),
        ("SEND_FILE_MAX_AGE_DEFAULT", "", None),
        ("MAX_CONTENT_LENGTH", "1048576", 1048576),
        ("MAX_CONTENT_LENGTH", "", None),
        ("MAX_FORM_PARTS", "10", 10),
        ("DEBUG", "off", False),
        ("SESSION_COOKIE_SAMESITE", "Strict", "Strict"),
        ("SERVER_NAME", "123", "123"),  # text stays text, never a number
        ("TRUSTED_HOSTS", '["example.com"]', ["example.com"]),
    ],
)
def test_numbers_durations_and_flask_settings_take_their_type(monkeypatch, key, text, expected):
    value = app_with(monkeypatch, **{f"PIXCRAWLER_{key}": text}).config[key]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("MIGRATION_WAIT_TIMEOUT", "soon", "a number of seconds (>= 0)"),
        ("MIGRATION_LOCK_TIMEOUT", "-1", "a number of seconds (>= 0)"),
        ("MIGRATION_LOCK_TIMEOUT", "nan", "a number of seconds (>= 0)"),
        ("MIGRATION_LOCK_TIMEOUT", "inf", "a number of seconds (>= 0)"),
        ("MIGRATION_LOCK_TIMEOUT", "5s", "a number of seconds (>= 0)"),
        ("MIGRATION_LOCK_RETRIES", "2.5", "a whole number (>= 0)"),
        ("MIGRATION_LOCK_RETRIES", "-1", "a whole number (>= 0)"),
        ("PERMANENT_SESSION_LIFETIME", "1 day", "a number of seconds (>= 0)"),
        ("MAX_CONTENT_LENGTH", "lots", "a whole number (>= 0)"),
        ("SESSION_COOKIE_HTTPONLY", "enabled", BOOLEAN_ERROR.removeprefix("must be ")),
        ("TRUSTED_HOSTS", "example.com", "a JSON list"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_variable(
    monkeypatch, key, text, expected
):
    with pytest.raises(ConfigError) as refused:
        app_with(monkeypatch, **{f"PIXCRAWLER_{key}": text})
    assert str(refused.value) == f"PIXCRAWLER_{key} must be {expected}, not {text!r}"


def test_a_new_typed_class_attribute_needs_no_parsing_code():
    class BranchConfig(TestingConfig):
        NEW_SWITCH = True
        NEW_COUNT = 3
        NEW_LIFETIME = timedelta(hours=12)
        NEW_WAIT: Seconds = 1
        NEW_NAME = "x"

    config = {key: getattr(BranchConfig, key) for key in dir(BranchConfig) if key.isupper()}
    load_prefixed_env(
        config,
        BranchConfig,
        {
            "PIXCRAWLER_NEW_SWITCH": "Off",
            "PIXCRAWLER_NEW_COUNT": "4",
            "PIXCRAWLER_NEW_LIFETIME": "900",
            "PIXCRAWLER_NEW_WAIT": "0.25",
            "PIXCRAWLER_NEW_NAME": "false",
        },
    )
    assert config["NEW_SWITCH"] is False
    assert config["NEW_COUNT"] == 4
    assert config["NEW_LIFETIME"] == timedelta(minutes=15)
    assert config["NEW_WAIT"] == 0.25
    assert config["NEW_NAME"] == "false"
    with pytest.raises(ConfigError, match=r"^PIXCRAWLER_NEW_COUNT must be a whole number"):
        load_prefixed_env(config, BranchConfig, {"PIXCRAWLER_NEW_COUNT": "many"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("False", False), ("on", True), ("5", 5), ('{"a": 1}', {"a": 1}), ("a b", "a b")],
)
def test_a_key_of_unknown_type_is_a_boolean_word_else_json_else_text(monkeypatch, text, expected):
    app = app_with(monkeypatch, PIXCRAWLER_AN_EXTENSION_SETTING=text)
    assert app.config["AN_EXTENSION_SETTING"] == expected


def test_a_nested_item_is_typed_by_its_default_and_the_class_default_is_left_alone(monkeypatch):
    app = app_with(monkeypatch, PIXCRAWLER_SQLALCHEMY_ENGINE_OPTIONS__pool_pre_ping="False")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": False}
    assert TestingConfig.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}


def test_the_superuser_variables_are_not_settings(monkeypatch):
    app = app_with(
        monkeypatch,
        PIXCRAWLER_SUPERUSER_PASSWORD="not-for-config",
        PIXCRAWLER_SUPERUSER_EMAIL="a@example.com",
    )
    assert "SUPERUSER_PASSWORD" not in app.config
    assert "SUPERUSER_EMAIL" not in app.config
    assert "not-for-config" not in repr(app.config)


@pytest.mark.parametrize("spelling", ["False", "no", "OFF"])
def test_production_downgrade_with_allow_downgrade_off_still_refuses(
    monkeypatch, database_url, spelling
):
    monkeypatch.setenv("PIXCRAWLER_ALLOW_DOWNGRADE", spelling)
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "a-real-production-secret-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "-1"])
    assert result.exit_code == 1
    assert "refusing to downgrade the production database" in result.stderr
    with app.app_context():
        assert migration_state().current == migration_state().heads  # nothing was undone
        db.engine.dispose()


def test_admin_upgrade_with_the_flag_spelled_false_is_refused(monkeypatch, head_database_url):
    monkeypatch.setenv("PIXCRAWLER_ADMIN_ALLOW_UPGRADE", "False")
    app = make_app(head_database_url)
    add_superuser(app)
    try:
        client = app.test_client()
        assert login(client).status_code == 302
        page = client.get("/admin/migrations/").get_data(as_text=True)
        assert 'id="upgrade-off"' in page
        response = client.post(
            "/admin/migrations/upgrade",
            data={"target": "001", "confirmation": "001", "csrf_token": csrf_token(page)},
        )
        assert response.status_code == 403
    finally:
        with app.app_context():
            db.session.remove()
            delete_all_rows(db.engine, db.metadata)
            db.engine.dispose()


def run_wsgi_import(database_url: str, env: dict[str, str]):
    """What a WSGI server does with `wsgi:app`: import the module, take `app`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    full_env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "testing", **env})
    return subprocess.run(
        [sys.executable, "-c", "from wsgi import app"],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


BAD = {"PIXCRAWLER_MIGRATION_LOCK_RETRIES": "a few"}
BAD_LINE = "Error: PIXCRAWLER_MIGRATION_LOCK_RETRIES must be a whole number (>= 0), not 'a few'"


@pytest.mark.parametrize(
    "entry_point",
    [
        lambda url: run_flask("db", "current", database_url=url, env=BAD),
        lambda url: run_wsgi_import(database_url=url, env=BAD),
        lambda url: run_alembic("current", database_url=url, env=BAD),
    ],
    ids=["flask", "wsgi:app", "alembic"],
)
def test_every_entry_point_stops_with_one_line(entry_point, tmp_path):
    result = entry_point(f"sqlite:///{tmp_path}/app.db")
    assert result.returncode == 1
    assert result.stderr == BAD_LINE + "\n"
    assert result.stdout == ""
    assert not (tmp_path / "app.db").exists()
