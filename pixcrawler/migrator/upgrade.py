"""Applying migrations from inside the running app (the admin's upgrade button).

It goes through `flask_migrate.upgrade`, the function behind `flask db upgrade`, so the browser
and the command line share one path: the same env.py, the same options, and the same lock.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from flask import current_app

from pixcrawler.database.errors import first_line
from pixcrawler.extensions import db, migrate
from pixcrawler.migrator.state import migration_state

# Set while the app upgrades itself: env.py then leaves the server's logging setup alone
# (under `flask db` it loads alembic.ini's logging, which suits a command, not a server).
_in_app_upgrade: ContextVar[bool] = ContextVar("in_app_upgrade", default=False)


@migrate.configure
def _keep_server_logging(config):
    if _in_app_upgrade.get():
        config.attributes["configure_logging"] = False
    return config


class UpgradeError(RuntimeError):
    """The upgrade was refused or failed; the message is for the operator."""


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def upgrade_to(revision: str) -> None:
    """Upgrade the database to `revision`, which must be one of the pending revisions."""
    from flask_migrate import upgrade

    state = migration_state()
    pending = {r.id for r in state.pending}
    if state.error:
        raise UpgradeError(f"the database does not answer: {state.error}")
    if revision not in pending:
        raise UpgradeError(f"{revision!r} is not a pending revision")
    # The request's own session may hold a read transaction; on SQLite it would block the
    # migration's writes until the lock timeout.
    db.session.close()
    capture = _Capture()
    log = logging.getLogger("flask_migrate")
    log.addHandler(capture)
    token = _in_app_upgrade.set(True)
    try:
        # This app's own folder: Flask-Migrate's default is shared by every app in the process.
        upgrade(directory=current_app.extensions["migrate"].directory, revision=revision)
    except SystemExit:
        # flask_migrate.upgrade reports Alembic errors by logging them and exiting, as the
        # CLI wants; inside a web request that becomes one message.
        message = capture.messages[-1] if capture.messages else "the upgrade failed"
        raise UpgradeError(message.removeprefix("Error: ")) from None
    except Exception as exc:  # a failing revision: the database error, one line
        current_app.logger.exception("upgrade to %s failed", revision)
        raise UpgradeError(f"the upgrade to {revision} failed: {first_line(exc)}") from None
    finally:
        _in_app_upgrade.reset(token)
        log.removeHandler(capture)
