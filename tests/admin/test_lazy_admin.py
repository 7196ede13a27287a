"""The admin is built on the first request, never for a `flask` command, and once per app."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from pixcrawler.admin import init_admin
from pixcrawler.extensions import db
from tests.conftest import REPO_ROOT, make_app

WEB_ONLY = ("flask_admin", "flask_login", "flask_wtf", "wtforms")


def test_create_app_imports_no_admin_stack(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from pixcrawler import create_app
        app = create_app({{"ENV_NAME": "testing",
                          "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/x.sqlite3"}})
        loaded = lambda: sorted({{m.split(".")[0] for m in sys.modules}} & set({WEB_ONLY!r}))
        print(loaded())
        print(any(r.rule.startswith("/admin") for r in app.url_map.iter_rules()))
        app.test_client().get("/healthz")
        print(loaded())
        print(any(r.rule.startswith("/admin") for r in app.url_map.iter_rules()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == ["[]", "False", str(sorted(WEB_ONLY)), "True"]


def test_flask_commands_never_build_the_admin(flask_cli):
    result = flask_cli("routes")
    assert result.returncode == 0, result.stderr
    assert "/healthz" in result.stdout and "/readyz" in result.stdout
    assert "/admin" not in result.stdout


def test_each_app_gets_its_own_admin(tmp_path):
    first = make_app(f"sqlite:///{tmp_path}/a.sqlite3")
    second = make_app(f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        for app in (first, second):
            assert app.test_client().get("/admin/").status_code == 302
        one, two = first.extensions["pixcrawler_admin"], second.extensions["pixcrawler_admin"]
        assert one is not two
        assert init_admin(first) is one  # a second call changes nothing
        assert one.app is first and two.app is second
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()


def test_concurrent_first_requests_build_it_once(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/c.sqlite3")
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def hit():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.get("/admin/project/").status_code)

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert statuses == [302] * 6
        assert len(app.extensions["admin"]) == 1
    finally:
        with app.app_context():
            db.engine.dispose()
