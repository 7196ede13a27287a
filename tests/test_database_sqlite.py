"""The embedded SQLite file under a running server: deleted (README's way to start again) or
replaced, it is noticed on the next request, without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.database.sqlite import database_file
from pixcrawler.extensions import db
from tests.admin.helpers import EMAIL, PASSWORD, add_superuser, login
from tests.conftest import make_app


@pytest.fixture
def served(tmp_path):
    """A "server" app (a test client on a pooled engine) on a SQLite file at head."""
    path = tmp_path / "pixcrawler.sqlite3"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
    yield app, path
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def delete_database(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-journal")):
        leftover.unlink(missing_ok=True)


def test_a_deleted_file_is_noticed_by_the_running_app(served):
    app, path = served
    client = app.test_client()
    assert client.get("/readyz").status_code == 200  # the pool now holds an open connection
    delete_database(path)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "no schema yet"
    assert path.is_file()  # opened afresh at the same path


def test_after_starting_again_a_new_superuser_logs_in_without_a_restart(served, tmp_path):
    app, path = served
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    delete_database(path)
    # What README's troubleshooting says, from another process's point of view: a new file
    # at head, and a new admin account in it.
    other = make_app(f"sqlite:///{path}")
    with other.app_context():
        upgrade()
        db.engine.dispose()
    add_superuser(other, EMAIL, PASSWORD)
    with other.app_context():
        db.engine.dispose()
    assert login(client).status_code == 302
    assert client.get("/readyz").status_code == 200


def test_a_replaced_file_is_noticed_too(served, tmp_path):
    app, path = served
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM profiles")) == 0
        db.session.remove()
        replacement = tmp_path / "other.sqlite3"
        with sa.create_engine(f"sqlite:///{replacement}").begin() as connection:
            connection.exec_driver_sql("CREATE TABLE profiles (id INTEGER)")
            connection.exec_driver_sql("INSERT INTO profiles VALUES (1), (2)")
        replacement.replace(path)
        assert db.session.scalar(sa.text("SELECT count(*) FROM profiles")) == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////data/app.db", "/data/app.db"),
        ("sqlite:///file:/data/app.db?mode=ro&uri=true", "/data/app.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:mem?mode=memory&uri=true", None),
    ],
)
def test_the_file_a_url_opens(url, expected):
    assert database_file(sa.engine.make_url(url)) == expected
