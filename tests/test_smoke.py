from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.models import Profile


def test_upgrade_then_insert(app):
    with app.app_context():
        upgrade()
        db.session.add(Profile(email="a@example.com"))
        db.session.commit()
        assert db.session.query(Profile).count() == 1


def test_migrated_app_is_clean(session):
    assert session.query(Profile).count() == 0
    session.add(Profile(email="b@example.com"))
    session.commit()


def test_cli(flask_cli):
    result = flask_cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "002" in flask_cli("db", "current").stdout
