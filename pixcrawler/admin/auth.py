"""Who gets into the admin: Flask-Login sessions for admin accounts, the login and logout pages,
and one guard in front of every URL under /admin.

The guard is deliberately redundant with the views' own `is_accessible`: a page added later that
forgets the secure base class, or Flask-Admin's static files, are still behind the login.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user, session_protected
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import load_only
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from pixcrawler.admin import sessions
from pixcrawler.extensions import db
from pixcrawler.models import Profile
from pixcrawler.services import accounts

# One message for an unknown email, a wrong password and a locked account, so the page never
# tells an attacker which emails have an admin account.
LOGIN_FAILED = "Invalid email or password, or too many failed attempts. Try again later."

# Said when accounts cannot be read at all; true of every email, so it reveals none.
NO_ACCOUNTS = (
    "Admin accounts cannot be read: the database does not answer or has no schema yet. "
    "Run `flask db upgrade`, then `flask createsuperuser`."
)

# Said with the 403 to a session that cannot be verified now and tries to change something.
UNVERIFIED_READ_ONLY = (
    "Your session cannot be checked against the database right now (its schema is older "
    "than the sessions table, or it does not answer), so it may only read."
)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A copy of the session id, which Flask-Login keeps as the user id (`_user_id`) and drops when
# session protection fails; this copy lets `end_protected_session` end it on the server.
SESSION_ID_KEY = "admin_session"

bp = Blueprint("accounts", __name__)


def wants_json() -> bool:
    """API paths, and clients that ask for JSON rather than HTML, get JSON errors."""
    if "/api/" in request.path:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def refuse() -> ResponseReturnValue:
    """Anyone not logged in: 401 JSON for machines, the login page for people."""
    if wants_json():
        return jsonify(error="authentication required", login=url_for("accounts.login")), 401
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def is_admin(allow_unverified: bool = False) -> bool:
    """A logged-in admin; `allow_unverified` also admits a session that cannot be checked now."""
    if not current_user.is_authenticated:
        return False
    return allow_unverified or current_user.verified


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything pointing elsewhere becomes the dashboard."""
    default = url_for("admin.index")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def preload_profile(email: str) -> list[Profile]:
    """Put the login's profile in the session with only the columns a login reads.

    The accounts service then finds it there instead of selecting every mapped column, so an
    admin can still log in while a pending migration adds a column to `profiles` (and apply
    it from the Migrations page). The caller keeps the result: the session holds it weakly.
    """
    query = (
        sa.select(Profile)
        .options(load_only(Profile.email, Profile.role))
        .where(Profile.email == email.strip().lower())
    )
    return list(db.session.scalars(query))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; POSTs are rate-limited per client address (see `init_auth`)."""
    target = safe_next(request.values.get("next"))
    if is_admin():
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email, password = form.email.data or "", form.password.data or ""
        now = datetime.now(UTC)
        try:
            profiles = preload_profile(email)  # noqa: F841  (kept alive for the service)
            result = accounts.authenticate(email, password, now)
            entry = sessions.remembered(result.account, now) if result.account else None
            db.session.commit()  # keeps the failure count and lockout, or the last login time
        except sa.exc.DBAPIError:
            db.session.rollback()
            flash(NO_ACCOUNTS, "error")
            return render_template("admin/login.html", form=form, next=target), 503
        if entry is not None:
            user = sessions.start(entry)
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(user)
            session[SESSION_ID_KEY] = user.session_id
            return redirect(target)
        flash(LOGIN_FAILED, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, next=target), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """POST only, with CSRFProtect checking the token: another site cannot log anyone out.

    The session ends on the server too, so a copy of the cookie is refused from now on.
    """
    if current_user.is_authenticated:
        sessions.end(current_user.get_id())
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


def guard_admin_paths() -> ResponseReturnValue | None:
    """Every request under the admin's URL needs a logged-in admin (each view checks more).

    A session that cannot be verified now only reads: anything but GET is refused before a
    view runs, so no upgrade and no data change can come from it.
    """
    prefix = current_app.extensions["pixcrawler_admin"].url
    under_admin = request.path == prefix or request.path.startswith(prefix + "/")
    if not under_admin:
        return None
    if not is_admin(allow_unverified=True):
        return refuse()
    if not current_user.verified and request.method not in READ_METHODS:
        abort(403, UNVERIFIED_READ_ONLY)
    return None


def client_identifier() -> str:
    """What "strong" session protection binds a session to: the client address as the app
    sees it (after ProxyFix, when proxies are trusted) and the User-Agent.

    Flask-Login's own version reads X-Forwarded-For directly, which any client can send.
    """
    base = f"{request.remote_addr}|{request.headers.get('User-Agent')}"
    return hashlib.sha512(base.encode()).hexdigest()


def end_protected_session(app: Flask) -> None:
    """When "strong" protection drops the user from a session (its address or User-Agent
    changed), end that session on the server too, so no copy of the cookie can resume it."""
    if "_user_id" not in session and session.get(SESSION_ID_KEY):
        sessions.end(session.pop(SESSION_ID_KEY))


def init_auth(app: Flask) -> None:
    """Sessions, CSRF protection of every POST, the login pages, the rate limit and the guard."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    CSRFProtect(app)
    manager = LoginManager()
    manager.session_protection = "strong"
    manager._session_identifier_generator = client_identifier
    manager.user_loader(sessions.load_user)
    manager.unauthorized_handler(refuse)
    manager.init_app(app)
    session_protected.connect(end_protected_session, app)
    app.register_blueprint(bp)
    # One limiter per app (its counters live in it), keyed by the client address; the limit
    # is read from the config on each request, so tests and operators can change it.
    limiter = Limiter(get_remote_address, app=app)
    app.extensions["pixcrawler_limiter"] = limiter  # the route limit holds it only weakly
    limit = limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
    app.view_functions["accounts.login"] = limit(login)
    app.before_request(guard_admin_paths)
