"""The migration pages, written by hand: the history, what each pending revision will do
(`flask db impact`), one revision's SQL, the upgrade button (off unless ADMIN_ALLOW_UPGRADE),
and the same facts as JSON for machines.

Every fact comes from `migrator.state`, so these pages, `flask showmigrations`, `flask check`
and `/readyz` cannot disagree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.util import CommandError
from flask import abort, current_app, flash, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from flask_admin import expose

from pixcrawler.admin.base import SecureView
from pixcrawler.database.errors import first_line
from pixcrawler.migrator.sql import revision_sql
from pixcrawler.migrator.state import MigrationState, migration_state
from pixcrawler.migrator.upgrade import UpgradeError, upgrade_to

DIALECTS = ("postgresql", "sqlite")


def upgrades_allowed() -> bool:
    return bool(current_app.config.get("ADMIN_ALLOW_UPGRADE"))


class MigrationsView(SecureView):
    """The whole history, a revision's SQL, and (behind the flag) applying pending revisions."""

    @expose("/")
    def index(self) -> str:
        state = migration_state()
        return self.render("admin/migrations/list.html", state=state, **self._page(state))

    @expose("/<revision>")
    def detail(self, revision: str) -> ResponseReturnValue:
        state = migration_state()
        found = next((r for r in state.revisions if r.id == revision), None)
        if found is None:
            abort(404)
        dialect = request.args.get("dialect") or state.backend
        if dialect not in DIALECTS:
            abort(404)
        try:
            sql, sql_error = revision_sql(found.id, dialect=dialect), None
        except CommandError as exc:
            sql, sql_error = None, str(exc)
        return self.render(
            "admin/migrations/detail.html",
            state=state,
            revision=found,
            sql=sql,
            sql_error=sql_error,
            dialect=dialect,
            dialects=DIALECTS,
        )

    @expose("/upgrade", methods=["POST"])
    def upgrade(self) -> ResponseReturnValue:
        """Apply pending revisions up to the target; the confirmation must repeat its id."""
        if not upgrades_allowed():
            abort(403, "Upgrading from the browser is off (ADMIN_ALLOW_UPGRADE).")
        target = (request.form.get("target") or "").strip()
        confirmation = (request.form.get("confirmation") or "").strip()
        if not target or confirmation != target:
            flash("Type the target revision id exactly to confirm the upgrade.", "error")
            state = migration_state()
            page = self.render("admin/migrations/list.html", state=state, **self._page(state))
            return page, 400
        try:
            upgrade_to(target)
        except UpgradeError as exc:
            flash(f"Upgrade refused: {exc}", "error")
            return redirect(self.get_url(".index")), 303
        flash(f"Upgraded to {target}.", "success")
        return redirect(self.get_url(".index")), 303

    def _page(self, state: MigrationState) -> dict[str, Any]:
        report, notes = pending_impact(state)
        page = {"upgrades_allowed": upgrades_allowed(), "impact": report, "impact_notes": notes}
        if report is not None:  # the table's words, as `flask db impact` prints them
            from pixcrawler.migrator.impact.report import duration
            from pixcrawler.migrator.impact.text import size_text

            page.update(duration=duration, size_text=size_text)
        return page


def pending_impact(state: MigrationState):
    """`flask db impact` for the pending revisions: (report or None, notes). Imported here,
    when a page asks, so neither the admin's start nor the CLI loads the SQL parser."""
    if not state.pending:
        return None, []
    from pixcrawler.migrator.impact.analysis import ImpactError, analyse

    try:
        report = analyse(state=state)
    except ImpactError as exc:
        return None, [f"No analysis: {exc}"]
    except sa.exc.DBAPIError as exc:  # the database stopped answering since the state was read
        return None, [f"No analysis: {first_line(exc)}"]
    return report, report.notes


class MigrationsApiView(SecureView):
    """`GET /admin/api/migrations`: the dashboard's facts as JSON, with `flask db impact --json`
    for the pending revisions under "impact"; 401 JSON without a login."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    @expose("")  # the documented URL has no trailing slash; a redirect would confuse clients
    def index(self) -> ResponseReturnValue:
        state = migration_state(with_drift=True)
        report, notes = pending_impact(state)
        found = state.as_dict()
        found["impact"] = report.as_dict() if report else {"revisions": []}
        found["impact_notes"] = notes
        return jsonify(found)
