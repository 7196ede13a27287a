"""Who gets into the admin: Flask-Login sessions for admin accounts, the login and logout pages,
and one guard in front of every URL under /admin.

The guard is deliberately redundant with the views' own `is_accessible`: a page added later that
forgets the secure base class, or Flask-Admin's static files, are still behind the login.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
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
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import load_only
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Profile, Role
from pixcrawler.services import accounts

# One message for an unknown email, a wrong password and a locked account, so the page never
# tells an attacker which emails have an admin account.
LOGIN_FAILED = "Invalid email or password, or too many failed attempts. Try again later."

# Said when accounts cannot be read at all; true of every email, so it reveals none.
NO_ACCOUNTS = (
    "Admin accounts cannot be read: the database does not answer or has no schema yet. "
    "Run `flask db upgrade`, then `flask createsuperuser`."
)

# How long after its login a session is trusted when its account cannot be checked.
UNVERIFIED_MAX_AGE = timedelta(hours=12)

bp = Blueprint("accounts", __name__)


class AdminUser:
    """The Flask-Login user: an admin account, identified together with its password hash.

    The session stores a fingerprint of the hash, so changing the password ends every session.
    `verified` is False for a session whose account cannot be checked right now (the schema is
    below the accounts table, or the database does not answer): such a session sees only the
    schema pages, which are what an operator needs at that moment.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user_id: str, email: str, verified: bool = True):
        self.user_id = user_id
        self.email = email
        self.verified = verified

    @classmethod
    def of(cls, account: AdminAccount) -> AdminUser:
        user_id = f"{account.profile_id}.{fingerprint(account.password_hash)}"
        return cls(user_id, account.profile.email)

    def get_id(self) -> str:
        return self.user_id


def fingerprint(password_hash: str) -> str:
    """A short digest of the password hash, keyed by the app's secret."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:20]


def load_user(user_id: str) -> AdminUser | None:
    """The session's admin, or None once the account is gone, demoted or has a new password."""
    profile_id, _, mark = user_id.partition(".")
    try:
        key = uuid.UUID(profile_id)
    except ValueError:
        return None
    # Only columns that exist since the accounts table does: a database a few revisions behind
    # the models (the moment the dashboard matters most) must still let its admins in.
    query = (
        sa.select(AdminAccount.password_hash, Profile.email, Profile.role)
        .join(Profile, Profile.id == AdminAccount.profile_id)
        .where(AdminAccount.profile_id == key)
    )
    try:
        row = db.session.execute(query).one_or_none()
    except sa.exc.DBAPIError:
        db.session.rollback()
        return unverified_user(user_id)
    if row is None or row.role != Role.ADMIN:
        return None
    if not hmac.compare_digest(mark, fingerprint(row.password_hash)):
        return None
    return AdminUser(user_id, row.email)


def unverified_user(user_id: str) -> AdminUser | None:
    """A recent login whose account cannot be read now: no accounts table, or no database.

    Nothing could be checked against then (a downgrade below the accounts table removes every
    account), so the signed session is trusted for UNVERIFIED_MAX_AGE after its login, and
    only on the schema pages.
    """
    if accounts_table_exists() is True:
        return None  # the table is there and the read still failed: refuse, don't guess
    logged_in_at = session.get("admin_login_at")
    if not isinstance(logged_in_at, int | float):
        return None
    if time.time() - logged_in_at > UNVERIFIED_MAX_AGE.total_seconds():
        return None
    return AdminUser(user_id, str(session.get("admin_email", "")), verified=False)


def accounts_table_exists() -> bool | None:
    """True or False, or None when the database does not answer."""
    try:
        return sa.inspect(db.engine).has_table(AdminAccount.__tablename__)
    except sa.exc.DBAPIError:
        return None


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
    target = safe_next(request.values.get("next"))
    if is_admin():
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email, password = form.email.data or "", form.password.data or ""
        try:
            profiles = preload_profile(email)  # noqa: F841  (kept alive for the service)
            result = accounts.authenticate(email, password)
            user = AdminUser.of(result.account) if result.ok else None
            db.session.commit()  # keeps the failure count and lockout, or the last login time
        except sa.exc.DBAPIError:
            db.session.rollback()
            flash(NO_ACCOUNTS, "error")
            return render_template("admin/login.html", form=form, next=target), 503
        if user is not None:
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(user)
            session["admin_email"] = user.email
            session["admin_login_at"] = time.time()
            return redirect(target)
        flash(LOGIN_FAILED, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, next=target), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """POST only, with CSRFProtect checking the token: another site cannot log anyone out."""
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


def guard_admin_paths() -> ResponseReturnValue | None:
    """Every request under the admin's URL needs a logged-in admin (each view checks more)."""
    prefix = current_app.extensions["pixcrawler_admin"].url
    under_admin = request.path == prefix or request.path.startswith(prefix + "/")
    if under_admin and not is_admin(allow_unverified=True):
        return refuse()
    return None


def init_auth(app: Flask) -> None:
    """Sessions, CSRF protection of every POST, the login pages and the guard, on one app."""
    CSRFProtect(app)
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    manager.unauthorized_handler(refuse)
    manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(guard_admin_paths)
