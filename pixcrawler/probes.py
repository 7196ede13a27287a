"""Health probes for a load balancer or an orchestrator; no login, JSON only.

`/healthz` answers while the process runs. `/readyz` answers 200 only when the database answers
and its schema is at the scripts' head, so traffic never reaches an app whose schema lags.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up; says nothing about the database, on purpose."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """200 when the database answers and is at head; 503 with the reason otherwise."""
    # Imported here: the CLI imports this module with every command and never calls the probe.
    from pixcrawler.migrator.state import migration_state

    state = migration_state()
    body = {
        "ready": state.at_head,
        "status": state.status,
        "current": list(state.current),
        "heads": list(state.heads),
    }
    if state.at_head:
        return jsonify(body), 200
    reason = state.summary
    if state.error:
        reason = f"{state.status}: {state.error}"
    elif state.unknown_current:
        reason = f"{state.status}: at {', '.join(state.unknown_current)}, unknown to this code"
    elif state.pending:
        reason = f"{state.summary}: " + ", ".join(r.id for r in state.pending)
    return jsonify({**body, "reason": reason}), 503
