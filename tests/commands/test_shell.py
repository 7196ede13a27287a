"""`flask shell` opens with `db` and every model already imported (the shell context)."""

from __future__ import annotations

import pixcrawler.models as models
from tests.commands.cli_helpers import ok


def test_db_and_every_model_are_in_the_shell(flask_cli, backend):
    script = (
        "print(Profile, db)\n"
        f"print('missing:', [name for name in {models.__all__!r} if name not in globals()])\n"
    )
    result = ok(flask_cli("shell", stdin=script))
    assert "<class 'pixcrawler.models.profile.Profile'>" in result.stdout
    assert f"<SQLAlchemy {backend}" in result.stdout
    assert "missing: []" in result.stdout
