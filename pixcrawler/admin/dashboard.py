"""The admin's home page: which revision the database is at and whether anything is pending,
before anything else."""

from __future__ import annotations

from flask_admin import expose

from pixcrawler.admin.base import SecureIndexView
from pixcrawler.admin.migrations import upgrades_allowed
from pixcrawler.migrator.state import migration_state


class DashboardView(SecureIndexView):
    """Current revision(s), heads, status, pending revisions, backend and schema drift."""

    @expose("/")
    def index(self) -> str:
        # Drift compares every model with the database (what `flask check` does); it is the
        # slow part, so only this page computes it, and the navigation bar reuses the rest.
        state = migration_state(with_drift=True)
        by_id = {r.id: r for r in state.revisions}
        return self.render(
            "admin/dashboard.html",
            state=state,
            schema=state,
            current=[(rev, by_id.get(rev)) for rev in sorted(state.current)],
            heads=[by_id[rev] for rev in state.heads],
            upgrades_allowed=upgrades_allowed(),
        )
